"""A person's data on a real database (SQLite and PostgreSQL): export, /forget and
``helpdesk person erase``, the retention period, and the audit trail of staff actions."""

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from helpdesk.bootstrap import App
from helpdesk.domain.audit import AuditAction
from helpdesk.domain.curation import Proposal
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.questions import Action, AskedQuestion
from helpdesk.services.privacy import apply_retention, erase_person, export_person
from helpdesk.services.reports import summarise
from tests.fakes import FakeClock
from tests.integration.test_cli import Cli
from tests.integration.test_console_loop import Console
from tests.integration.test_curation import ANSWER, QUESTION, answered_ticket, app, console
from tests.support import ENTRIES

__all__ = ["app", "console"]  # fixtures shared with the curation tests

OFFICIAL = ChatIdentity("console", "official")


async def _official_id(app: App) -> int:
    async with app.uow() as uow:
        person = await uow.people.by_identity(OFFICIAL)
        assert person is not None and person.id is not None
        return person.id


async def _texts_in_database(app: App, needle: str) -> list[str]:
    """Every table and column where ``needle`` still appears, read straight from SQL."""
    found = []
    async with app.database.engine.connect() as connection:
        for table in ("questions", "tickets", "ticket_events", "outbox", "proposals", "people"):
            rows = await connection.execute(text(f"select * from {table}"))
            for row in rows:
                if needle in json.dumps([str(v) for v in row], ensure_ascii=False):
                    found.append(f"{table}: {row}")
    return found


async def test_forget_erases_the_persons_texts_and_keeps_anonymous_counts(
    console: Console, app: App, clock: FakeClock
) -> None:
    await answered_ticket(console, app)
    await console.type("/as official")
    official_id = await _official_id(app)
    async with app.uow() as uow:
        exported = await export_person(uow, official_id, "test", clock())
        await uow.commit()
    assert exported is not None
    assert [q["text"] for q in exported["questions"]] == [QUESTION]
    assert exported["tickets"][0]["answer"] == ANSWER
    assert exported["identities"][0]["address"] == "official"

    asked = await console.type("/forget")
    assert "Erase what the helpdesk keeps about you?" in asked
    assert await _texts_in_database(app, QUESTION)  # asking changed nothing
    done = await console.type("/forget yes")
    assert "Your data has been erased" in done

    assert await _texts_in_database(app, QUESTION) == []
    assert await _texts_in_database(app, "Local official") == []
    async with app.uow() as uow:
        assert await uow.people.by_identity(OFFICIAL) is None  # a stranger from now on
        ticket = await uow.tickets.get(1)
        assert ticket is not None and ticket.text == ""
        assert ticket.answer == ANSWER.replace("Local official", "(erased)")  # no name left
        (erased,) = await uow.audit.find(action=AuditAction.ERASE)
        assert erased.subject == f"person:{official_id}" and "questions 1" in erased.detail
        questions = await uow.questions.since(clock() - timedelta(days=1))
    assert len(questions) == 1 and questions[0].text == ""  # still counted, anonymously
    assert summarise(questions, [ticket], {}).questions == 1
    assert "/start" in await console.type("Hello again?")  # strangers are told how to join


async def test_retention_blanks_old_question_texts_only(
    console: Console, app: App, clock: FakeClock
) -> None:
    await answered_ticket(console, app)
    clock.advance(days=200)
    await console.type("/as official")
    await console.type("Who decides the budget for snow clearing in Kumanovo villages?")
    blanked = await apply_retention(app.uow, clock, timedelta(days=100))
    assert blanked == 1
    assert await _texts_in_database(app, QUESTION) == []
    assert await _texts_in_database(app, "snow clearing")
    assert await apply_retention(app.uow, clock, timedelta(days=100)) == 0


async def test_staff_actions_are_in_the_audit_trail(console: Console, app: App) -> None:
    await answered_ticket(console, app)
    await console.type("/as staff")
    printed = await console.type("/promote 1")
    entry_id = printed.split("Draft entry ")[1].split(" ")[0]
    await console.type(f"/publish {entry_id}")
    await console.type(f"/retire {entry_id}")
    async with app.uow() as uow:
        events = await uow.audit.find()
    assert [e.action for e in events] == [
        AuditAction.RETIRE,
        AuditAction.PUBLISH,
        AuditAction.PROMOTE,
    ]
    assert all(e.actor.startswith("Local staff (#") for e in events)
    assert events[0].subject == f"entry:{entry_id}"


async def test_staff_assign_a_ticket_by_hand_and_it_is_audited(
    console: Console, app: App, clock: FakeClock, tmp_path: Path, database_url: str
) -> None:
    assert "ticket #1" in await console.type(QUESTION)
    async with app.uow() as uow:
        second = await uow.people.add(
            Person(
                name="Second expert",
                role=Role.EXPERT,
                languages=("en",),
                identities=[ChatIdentity("console", "second")],
                created_at=clock(),
            )
        )
        await uow.commit()
    cli = Cli(tmp_path, database_url)
    assert "Ticket #1 is now with Second expert" in cli.ok("ticket", "assign", "1", str(second.id))
    official = await _official_id(app)
    refused = cli("ticket", "assign", "1", str(official))
    assert refused.returncode != 0 and "is not an expert" in refused.stderr
    (assigned,) = [json.loads(line) for line in cli.ok("audit", "--json").splitlines()]
    assert assigned["action"] == "assign" and assigned["subject"] == "ticket:1"
    assert assigned["detail"] == f"person:{second.id}" and assigned["actor"].endswith("(cli)")
    async with app.uow() as uow:
        ticket = await uow.tickets.get(1)
        assert ticket is not None and ticket.assignee_id == second.id
        reminders = await uow.schedule.pending(ticket_id=1)
    assert {a.person_id for a in reminders} == {second.id}  # the new expert's clock runs


async def test_erasure_drops_pending_proposals_from_the_persons_questions(
    console: Console, app: App, clock: FakeClock
) -> None:
    official_id = await _official_id(app)
    async with app.uow() as uow:
        question = await uow.questions.add(
            AskedQuestion(
                person_id=official_id,
                text="Kako pokrenuti vijeće mladih?",
                normalized="kako pokrenuti vijece mladih",
                action=Action.SUGGEST,
                created_at=clock(),
            )
        )
        pending = await uow.proposals.add(
            Proposal(
                entry_id=ENTRIES[0].id,
                text=question.text,
                created_at=clock(),
                question_id=question.id,
            )
        )
        await erase_person(uow, official_id, "test", clock())
        await uow.commit()
    async with app.uow() as uow:
        assert pending.id is not None and await uow.proposals.get(pending.id) is None
    assert await _texts_in_database(app, "vijeće mladih") == []
