"""Two transactions on the same rows at once, on PostgreSQL (SQLite has one writer at a
time, so these races cannot happen there): the loser is run again, and nobody is told
that something went wrong.

Seen in the suite: a scheduled reminder held its action and waited for the ticket, while
the expert's answer held the ticket and waited to cancel that very reminder. The database
aborted the answer as the deadlock's victim and the expert read "Sorry, something went
wrong"."""

import asyncio
import io

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk.bootstrap import App
from helpdesk.domain.tickets import TicketStatus
from helpdesk.runner import open_console
from helpdesk.services.due import run_due
from helpdesk.services.knowledge import import_entries
from tests.fakes import FakeClock
from tests.integration.test_console_loop import UNMATCHED, Console
from tests.support import ENTRIES

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def console(app: App, clock: FakeClock) -> Console:
    await import_entries(app.uow, ENTRIES, clock)
    out = io.StringIO()
    console = Console(await open_console(app, out=out), out)
    assert "(ticket #1)" in await console.type(UNMATCHED)
    await console.type("/as expert")
    return console


async def _waiting_for_a_lock(connection: AsyncConnection) -> None:
    """Until another session of this database waits for a row lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(500):
        waiting = (await connection.execute(query)).scalar_one()
        await connection.rollback()  # the statistics are read once per transaction
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("nobody waited for a lock")


async def test_an_answer_that_loses_a_deadlock_to_the_scheduler_is_handled_again(
    app: App, console: Console
) -> None:
    engine = app.database.engine
    async with engine.connect() as scheduler, engine.connect() as observer:
        # What the scheduler does first: claim the reminder of ticket #1 (a row lock).
        await scheduler.execute(
            text(
                "UPDATE scheduled_actions SET done_at = now(), outcome = 'running' "
                "WHERE ticket_id = 1 AND kind = 'remind_expert'"
            )
        )
        # The answer saves the ticket, then waits to cancel the reminder.
        answering = asyncio.create_task(console.type("/answer 1 The municipal council does."))
        await _waiting_for_a_lock(observer)
        # The scheduler now writes the ticket: each waits for the other. PostgreSQL aborts
        # the one that waited first (the answer), after its deadlock_timeout.
        await scheduler.execute(text("UPDATE tickets SET updated_at = updated_at WHERE id = 1"))
        await scheduler.rollback()  # the reminder fails for its own reasons
    printed = await answering
    assert "Your answer to ticket #1 was sent to the official." in printed
    assert "something went wrong" not in printed
    async with app.uow() as uow:
        ticket = await uow.tickets.get(1)
        pending = await uow.schedule.pending(ticket_id=1)
    assert ticket is not None and ticket.status is TicketStatus.ANSWERED
    assert [a.kind.value for a in pending] == ["follow_up"]  # the reminder was cancelled


async def test_a_ticket_changed_since_it_was_read_is_not_overwritten(
    app: App, console: Console, clock: FakeClock
) -> None:
    # The ticket is to move on from its expert (nobody else is there: it is released);
    # the answer commits between the scheduler's reading of the ticket and its writing,
    # which must then see the answer, not overwrite it.
    clock.advance(days=30)
    engine = app.database.engine
    async with engine.connect() as holder, engine.connect() as observer:
        await holder.execute(
            text(
                "UPDATE scheduled_actions SET done_at = now(), outcome = 'by hand' "
                "WHERE ticket_id = 1 AND kind <> 'reassign'"
            )
        )
        await holder.execute(text("SELECT 1 FROM tickets WHERE id = 1 FOR UPDATE"))
        moving = asyncio.create_task(run_due(app.uow, app.clock, app.helpdesk.timings))
        await _waiting_for_a_lock(observer)
        # As the ORM writes a ticket: with the next version.
        await holder.execute(
            text(
                "UPDATE tickets SET status = 'answered', answer = 'By hand.', "
                "version = version + 1 WHERE id = 1"
            )
        )
        await holder.commit()
    await moving
    async with app.uow() as uow:
        ticket = await uow.tickets.get(1)
        pending = await uow.schedule.pending(ticket_id=1)
    assert ticket is not None and ticket.status is TicketStatus.ANSWERED
    assert ticket.answer == "By hand."
    # Run again at once, not put off for minutes as a failure: nothing left to do.
    assert pending == []
