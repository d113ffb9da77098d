"""The one contract every chat adapter implements, and the loop that keeps one serving.

An adapter is one chat platform's connection. It is built with the core's ``Handler``
and hands it every message as a plain ``Inbound`` that knows where to reply; it
``start``s (connects, logs in), serves one round at a time (``serve_once``: a long poll,
a sync, a webhook server until stopped), sends the outbox's replies its own way
(``send``, the core's ``Transport``), says when it can send (``ready``) and ``close``s.

Reconnecting is not the adapter's business: ``keep_serving`` tries a failed round again
with exponential backoff and full jitter, written once here on tenacity. The adapter
only says which failures are worth another try (``retryable``: the network, a server
away) and raises ``Misconfigured`` for a setting that no wait will cure (a refused
token, an address that is not the server's): one line for the operator, no retry.

The sending side is defined by the core (``helpdesk.services.delivery``): the outbox
relay needs nothing else, and the core never imports adapters, so the arrow points from
here to there. What an adapter needs of it is re-exported here, so that an adapter
imports its whole contract from one place.
"""

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Protocol

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

from helpdesk.services.conversation import Inbound
from helpdesk.services.delivery import RetryLater, Transport, Undeliverable

__all__ = [
    "HANDLED_AT_ONCE",
    "ChatAdapter",
    "FullJitter",
    "Handler",
    "Inbound",
    "Misconfigured",
    "RetryLater",
    "Transport",
    "Unavailable",
    "Undeliverable",
    "keep_serving",
]

log = logging.getLogger(__name__)

_FIRST_BACKOFF = 1.0  # seconds: the widest first wait after a failure
_LONGEST_BACKOFF = 60.0

Handler = Callable[[Inbound], Awaitable[object]]
"""The core's entry point: returns once the message was handled (and recorded), which is
when an adapter may confirm it to its platform."""

HANDLED_AT_ONCE = 8
"""Messages of different people an adapter hands to the core at the same time, at most
(each one's in order): each holds a database connection while it is handled."""


class Misconfigured(Exception):
    """A setting the platform refuses (a wrong token, an address that is not the
    server's): waiting will not help, so the adapter stops, and with it the bot.

    The message is one line that names the settings to check, never a secret."""


class Unavailable(Exception):
    """The platform did not answer as it should; worth trying again later.

    The message is the platform's reason, safe to log: never a secret, never a message's
    text."""


class ChatAdapter(Transport, Protocol):
    """A chat platform as the runner sees it: started, kept serving, sent through, closed.

    ``platform``, ``ready`` and ``send`` are the outbox's ``Transport``; ``ready`` stays
    false until the adapter can send (Telegram once started, Matrix after its first sync).
    """

    async def start(self) -> None:
        """Connect and log in. Called once before serving, and again only while it fails."""
        ...

    async def serve_once(self, stop: asyncio.Event) -> None:
        """Receive one round (a long poll, a sync, or serve until ``stop`` is set), handing
        each message to the handler. Returns to be called again; raises when the connection
        failed."""
        ...

    def retryable(self, error: Exception) -> bool:
        """Whether a failure of ``start`` or ``serve_once`` is worth another try after a
        wait. Anything else (and ``Misconfigured`` always) stops the adapter."""
        ...

    async def close(self) -> None:
        """Disconnect; the adapter may be started again afterwards."""
        ...


class FullJitter(wait_exponential):
    """Exponential backoff with full jitter: after the n-th failure in a row, a wait drawn
    evenly between 0 and ``first`` · 2^(n-1) seconds, that ceiling at most ``longest``.

    tenacity's ``wait_random_exponential`` with the random source given, so that tests
    can choose it. Adapters of several bots restarting together do not knock in step."""

    def __init__(
        self,
        first: float = _FIRST_BACKOFF,
        longest: float = _LONGEST_BACKOFF,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(multiplier=first, max=longest)
        self._random = rng or random.Random()

    def ceiling(self, state: RetryCallState) -> float:
        """The longest wait after the failure ``state`` describes."""
        return super().__call__(state)

    def __call__(self, retry_state: RetryCallState) -> float:
        return self._random.uniform(0, self.ceiling(retry_state))


async def keep_serving(
    adapter: ChatAdapter,
    stop: asyncio.Event,
    *,
    on_ready: Callable[[], None] = lambda: None,
    backoff: FullJitter | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> None:
    """Start ``adapter`` and serve it round after round until ``stop`` is set.

    A failure the adapter calls retryable is tried again after a ``backoff`` wait (cut
    short by ``stop``); a round that succeeds starts the waits afresh. Any other failure
    is raised. ``on_ready`` is called when the adapter becomes ready, so that what waited
    in the outbox goes at once. ``sleep`` replaces the wait in tests."""
    started = False
    was_ready = adapter.ready

    def notice_readiness() -> None:
        nonlocal was_ready
        if adapter.ready and not was_ready:
            on_ready()
        was_ready = adapter.ready

    async def serve_round() -> None:
        nonlocal started
        if stop.is_set():  # during the wait before this try
            return
        if not started:
            await adapter.start()
            started = True
            notice_readiness()
        await adapter.serve_once(stop)
        notice_readiness()

    async def wait_or_stop(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    def worth_retrying(error: BaseException) -> bool:
        return (
            isinstance(error, Exception)
            and not isinstance(error, Misconfigured)
            and adapter.retryable(error)
        )

    def announce(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s: %s; retrying in %.1f s",
            adapter.platform,
            _reason(error),
            state.upcoming_sleep,
        )

    # One per adapter: tenacity keeps a retry's state on the object.
    retrying = AsyncRetrying(
        sleep=sleep or wait_or_stop,
        wait=backoff or FullJitter(),
        retry=retry_if_exception(worth_retrying),
        before_sleep=announce,
        reraise=True,
    )
    while not stop.is_set():
        await retrying(serve_round)


def _reason(error: BaseException | None) -> str:
    """What a log may say about a failure: the platform's reason when the adapter vouches
    for it, otherwise only its kind (a library's message may hold a URL with a token)."""
    if isinstance(error, Unavailable):
        return str(error)
    return type(error).__name__
