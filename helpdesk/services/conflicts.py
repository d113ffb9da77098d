"""Doing a unit of work again when it lost a race with another one (``Conflict``).

On PostgreSQL two transactions can wait for each other: a scheduled reminder holds its
action and waits for the ticket that an expert's answer holds while the answer waits to
cancel that very reminder. The database aborts one of them; the loser starts again from
the beginning and now sees what the winner did. A row changed since it was read (a ticket
answered while the official cancels it) is the same kind of race. A few quick attempts
settle it; a conflict that outlasts them is a bug, and is raised."""

from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from helpdesk.services.ports import Conflict

__all__ = ["ATTEMPTS", "again_on_conflict"]

ATTEMPTS = 5


def again_on_conflict() -> AsyncRetrying:
    """``async for attempt in again_on_conflict(): with attempt: ...`` runs the block
    until it ends without ``Conflict`` (at most ``ATTEMPTS`` times), a short random pause
    between attempts so that the two losers of a race do not meet again."""
    return AsyncRetrying(
        retry=retry_if_exception_type(Conflict),
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_random_exponential(multiplier=0.02, max=0.5),
        reraise=True,
    )
