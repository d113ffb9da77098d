"""Each domain type is stored and read back whole: every field of it, set to something
other than its default, comes back the same on both engines. A field that the storage
forgot would come back as its default, so the helper below refuses test objects that
leave a field at its default."""

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from helpdesk.bootstrap import App
from helpdesk.domain.audit import AuditAction, AuditEvent
from helpdesk.domain.curation import (
    ConnectionRequest,
    ConnectionStatus,
    Proposal,
    ProposalStatus,
)
from helpdesk.domain.invites import Invite
from helpdesk.domain.knowledge import Entry, EntryStatus, Translation
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.questions import Action, AskedQuestion, Candidate, Feedback
from helpdesk.domain.schedule import ActionKind, ScheduledAction
from helpdesk.domain.tickets import FollowUp, Ticket, TicketEvent, TicketEventKind, TicketStatus
from helpdesk.storage._mapping import Mapper
from helpdesk.storage.people import PERSON
from helpdesk.storage.tables import PersonRow
from tests.fakes import FakeClock


def no_defaults(obj: Any, *, except_: tuple[str, ...] = ()) -> Any:
    """``obj``, after checking that none of its fields is left at its default."""
    for field in dataclasses.fields(obj):
        if field.name in except_:
            continue
        value = getattr(obj, field.name)
        if field.default is not dataclasses.MISSING:
            assert value != field.default, f"{type(obj).__name__}.{field.name} is its default"
        if field.default_factory is not dataclasses.MISSING:
            assert value != field.default_factory(), f"{type(obj).__name__}.{field.name}"
    return obj


async def _people(app: App, clock: FakeClock) -> tuple[Person, Person]:
    official = no_defaults(
        Person(
            name="Ana",
            role=Role.OFFICIAL,
            city="Kumanovo",
            country="North Macedonia",
            languages=("mk", "en"),
            topics=("schools",),
            capacity=0,
            away_until=clock() + timedelta(days=2),
            ui_language="mk",
            last_language="en",
            timezone="Europe/Skopje",
            identities=[ChatIdentity("telegram", "7"), ChatIdentity("matrix", "@ana:hub")],
            created_at=clock(),
        ),
        # The database gives the id; erasure alone sets erased_at, never save().
        except_=("id", "erased_at"),
    )
    expert = Person(name="Vesna", role=Role.EXPERT, created_at=clock())
    async with app.uow() as uow:
        await uow.people.add(official)
        await uow.people.add(expert)
        await uow.commit()
    return official, expert


async def test_people_and_invitations_come_back_whole(app: App, clock: FakeClock) -> None:
    official, _ = await _people(app, clock)
    invite = no_defaults(
        Invite(
            code_hash="ab" * 32,
            role=Role.EXPERT,
            created_at=clock(),
            expires_at=clock() + timedelta(days=30),
            name="Vesna",
            city="Sarajevo",
            country="BiH",
            languages=("bs",),
            topics=("youth", "sport"),
            capacity=5,
        ),
        except_=("id", "used_at", "used_by"),
    )
    async with app.uow() as uow:
        assert await uow.people.get(official.id or 0) == official
        await uow.invites.add(invite)
        invite.used_at = clock() + timedelta(hours=1)
        invite.used_by = official.id
        await uow.invites.save(no_defaults(invite))
        await uow.commit()
    async with app.uow() as uow:
        assert await uow.invites.by_code_hash(invite.code_hash) == invite


async def test_questions_tickets_and_their_history_come_back_whole(
    app: App, clock: FakeClock
) -> None:
    official, expert = await _people(app, clock)
    assert official.id is not None and expert.id is not None
    question = AskedQuestion(
        person_id=official.id,
        text="Kako uključiti mlade?",
        normalized="kako ukljuciti mlade",
        action=Action.SUGGEST,
        candidates=(Candidate("youth-councils", "Youth councils", 71.5),),
        language="bs",
        entry_id="youth-councils",
        feedback=Feedback.NOT_HELPFUL,
        created_at=clock(),
        suggested=(Candidate("youth-councils", "Youth councils", 71.5),),
    )
    async with app.uow() as uow:
        await uow.questions.add(question)
        assert question.id is not None
        ticket = no_defaults(
            Ticket(
                official_id=official.id,
                text=question.text,
                created_at=clock(),
                language="bs",
                topics=("youth",),
                question_id=question.id,
                status=TicketStatus.CLOSED,
                assignee_id=expert.id,
                answer="Start with a youth council.",
                answered_by=expert.id,
                answered_at=clock() + timedelta(hours=3),
                rating=Feedback.HELPFUL,
                score=4,
                comment="Thank you",
                follow_up=FollowUp.PARTLY,
                events=[
                    TicketEvent(TicketEventKind.CREATED, clock()),
                    TicketEvent(
                        TicketEventKind.ASSIGNED,
                        clock() + timedelta(minutes=1),
                        actor_id=official.id,
                        expert_id=expert.id,
                        detail="languages",
                    ),
                ],
            ),
            except_=("id",),
        )
        await uow.tickets.add(ticket)
        question.ticket_id = ticket.id
        await uow.questions.save(no_defaults(question))
        await uow.commit()
    assert all(no_defaults(event) for event in ticket.events[1:])
    async with app.uow() as uow:
        assert await uow.questions.get(question.id) == question
        assert await uow.tickets.get(ticket.id or 0) == ticket


async def test_entries_and_their_versions_come_back_whole(app: App, clock: FakeClock) -> None:
    entry = no_defaults(
        Entry(
            id="youth-councils",
            title="Youth councils",
            questions=("How do we involve young people?", "Youth council?"),
            body="Start small.",
            topics=("youth",),
            lang="bs",
            city="Mostar",
            country="BiH",
            source="https://example.org/practice",
            status=EntryStatus.DRAFT,
            translations=(Translation("en", "Youth councils", "Start small.", "machine"),),
        )
    )
    async with app.uow() as uow:
        assert await uow.entries.upsert(entry, clock(), author="Vesna") == "created"
        await uow.commit()
    async with app.uow() as uow:
        assert await uow.entries.get(entry.id) == entry
        [version] = await uow.entries.history(entry.id)
    assert (version.entry, version.version, version.author, version.at) == (
        entry,
        1,
        "Vesna",
        clock(),
    )


async def test_curation_schedule_and_audit_come_back_whole(app: App, clock: FakeClock) -> None:
    official, _ = await _people(app, clock)
    assert official.id is not None
    question = AskedQuestion(official.id, "q", "q", Action.ESCALATE, created_at=clock())
    async with app.uow() as uow:
        await uow.questions.add(question)
        proposal = Proposal("youth-councils", "q", clock(), "bs", question.id)
        await uow.proposals.add(proposal)
        proposal.status = ProposalStatus.ACCEPTED
        proposal.decided_by = "Vesna (#2)"
        proposal.decided_at = clock() + timedelta(minutes=5)
        await uow.proposals.save(no_defaults(proposal, except_=("id",)))
        request = ConnectionRequest(official.id, "youth-councils", "Mostar", clock(), question.id)
        await uow.connections.add(request)
        request.status = ConnectionStatus.INTRODUCED
        await uow.connections.save(no_defaults(request, except_=("id",)))
        action = no_defaults(
            ScheduledAction(
                ActionKind.FOLLOW_UP,
                clock() + timedelta(days=14),
                official.id,
                created_at=clock(),
                outcome="planned",
            ),
            # done_at is set by claiming it; a ticket would tie it to one.
            except_=("id", "ticket_id", "done_at"),
        )
        await uow.schedule.add(action)
        event = no_defaults(
            AuditEvent(clock(), "Vesna (#2)", AuditAction.ACCEPT, "proposal:1", "phrasing"),
            except_=("id",),
        )
        await uow.audit.add(event)
        await uow.commit()
    async with app.uow() as uow:
        assert await uow.proposals.get(proposal.id or 0) == proposal
        assert await uow.connections.get(request.id or 0) == request
        assert await uow.schedule.pending(person_id=official.id) == [action]
        [stored] = await uow.audit.find()
    assert dataclasses.replace(stored, id=None) == event


def test_a_field_without_a_column_or_a_rule_is_refused_at_once() -> None:
    @dataclass
    class Nicknamed:
        name: str
        nickname: str

    with pytest.raises(TypeError, match="nickname"):
        Mapper(Nicknamed, PersonRow)


def test_a_field_kept_elsewhere_must_be_given() -> None:
    row = PersonRow(name="Ana", role="official", languages=[], topics=[], capacity=1)
    with pytest.raises(TypeError, match="identities"):
        PERSON.to_domain(row)
