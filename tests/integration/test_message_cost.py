"""What one question costs the database, counted on both engines: an answer from the
knowledge base, handled and delivered, in two transactions and a handful of statements
(benchmarks/per_message.py measures the same over the labelled questions)."""

from collections.abc import Sequence
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event

from helpdesk.bootstrap import App
from helpdesk.domain.people import Role
from helpdesk.services.conversation import Inbound
from helpdesk.services.delivery import deliver_items
from tests.fakes import FakeClock
from tests.integration.test_sqlite_session import sent_to_writer
from tests.support import Chat


class Counted:
    def __init__(self, app: App) -> None:
        self.statements: list[str] = []
        self.transactions = 0
        engine = app.database.work_engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(" ".join(statement.split()[:3]))

    def _begin(self, _conn: Any) -> None:
        self.transactions += 1


def _exposed(what: str) -> float:
    return REGISTRY.get_sample_value(f"helpdesk_database_{what}_total") or 0.0


async def test_an_answer_from_the_base_costs_two_transactions(
    app: App, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Chat(app.uow, clock)
    await chat.setup()
    await chat.add_person("ana", Role.OFFICIAL, languages=("en",))
    queued: list[int] = []

    def hand(item_ids: Sequence[int]) -> None:
        queued.extend(item_ids)

    chat.helpdesk.on_queued = hand
    transports = {"test": chat.transport}

    async def ask(message_id: str) -> None:
        question = "How do we set up a local safety council?"
        await chat.helpdesk.handle(Inbound("test", "ana", question, message_id=message_id))
        sent = await deliver_items(app.uow, transports, clock, queued)
        queued.clear()
        assert sent == 1 and "Local Safety Council" in chat.transport.sent[-1].text

    await ask("1")  # the first builds the matcher and remembers the language
    counted = Counted(app)
    to_writer = sent_to_writer(app.database, monkeypatch)
    exposed = {name: _exposed(name) for name in ("statements", "transactions")}
    await ask("2")
    assert counted.transactions == 2, counted.statements
    # /metrics says the same, for operators and the round-trip benchmark.
    assert _exposed("statements") - exposed["statements"] == len(counted.statements)
    assert _exposed("transactions") - exposed["transactions"] == counted.transactions
    # The person, the inbound claim, the question, the reply, the menu (read and written),
    # then the reply taken for delivery and marked delivered. Last seen is not written
    # again: the person wrote from here a moment ago.
    assert len(counted.statements) <= 8, counted.statements
    # On SQLite nothing leaves the event loop's thread: only a wait for the write lock,
    # which nobody else holds here, would.
    assert to_writer == []


async def test_an_escalation_reads_the_ticket_it_opened_no_more(app: App, clock: FakeClock) -> None:
    # Opening a ticket and routing it happen in one unit of work: the row written first is
    # held there, not read back when routing saves the assignment.
    chat = Chat(app.uow, clock)
    await chat.setup()
    await chat.add_person("ana", Role.OFFICIAL, languages=("en",))
    await chat.add_person("eva", Role.EXPERT, languages=("en",))
    await chat.helpdesk.handle(Inbound("test", "ana", "Hello", message_id="1"))
    counted = Counted(app)
    question = "What is the procedure for a building permit extension in a protected zone?"
    await chat.helpdesk.handle(Inbound("test", "ana", question, message_id="2"))
    statements = list(counted.statements)
    async with app.uow() as uow:
        [ticket] = await uow.tickets.find()
    assert ticket.assignee_id is not None and len(ticket.events) >= 2
    assert len({event.id for event in ticket.events}) == len(ticket.events)
    read_back = [s for s in statements if s.startswith("SELECT tickets.id")]
    assert not read_back, statements
    # The experts with their loads in one statement (and their identities in another),
    # not one for the experts, one for their open tickets and one for their last
    # assignments besides.
    loads = [s for s in statements if s.startswith(("SELECT tickets.", "SELECT ticket_events."))]
    assert not loads, statements
    # Nothing can be planned yet for a ticket opened now: the schedule is not read.
    assert "SELECT scheduled_actions.id, scheduled_actions.kind," not in statements
    assert len(statements) <= 20, statements
