"""Repositories: domain objects in, domain objects out; SQLAlchemy stays in here."""

import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.domain.curation import (
    ConnectionRequest,
    ConnectionStatus,
    EntryVersion,
    Proposal,
    ProposalStatus,
    describe_change,
)
from helpdesk.domain.invites import Invite
from helpdesk.domain.knowledge import (
    Entry,
    EntryStatus,
    entry_from_json,
    entry_to_json,
    translations_from_json,
    translations_to_json,
)
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.questions import Action, AskedQuestion, Candidate, Feedback
from helpdesk.domain.routing import ExpertLoad
from helpdesk.domain.schedule import ActionKind, ScheduledAction
from helpdesk.domain.tickets import FollowUp, Ticket, TicketEvent, TicketEventKind, TicketStatus
from helpdesk.i18n.messages import Reply
from helpdesk.services.choices import Menu, Menus
from helpdesk.services.ports import OutboxItem, Upserted
from helpdesk.storage.tables import (
    ConnectionRequestRow,
    EmbeddingRow,
    EntryQuestionRow,
    EntryRow,
    EntryVersionRow,
    IdentityRow,
    InboundRow,
    InviteRow,
    MenuRow,
    OutboxMentionRow,
    OutboxRow,
    PersonRow,
    ProposalRow,
    QuestionRow,
    ScheduledActionRow,
    TicketEventRow,
    TicketRow,
)

__all__ = [
    "SqlConnections",
    "SqlEmbeddings",
    "SqlEntries",
    "SqlInbound",
    "SqlInvites",
    "SqlMenus",
    "SqlOutbox",
    "SqlPeople",
    "SqlProposals",
    "SqlQuestions",
    "SqlSchedule",
    "SqlTickets",
]


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session


# -- people -------------------------------------------------------------------------------


class SqlPeople(_Repository):
    async def get(self, person_id: int) -> Person | None:
        row = await self.session.get(PersonRow, person_id)
        return await self._person(row) if row else None

    async def by_identity(self, identity: ChatIdentity) -> Person | None:
        row = await self.session.scalar(
            select(PersonRow)
            .join(IdentityRow, IdentityRow.person_id == PersonRow.id)
            .where(IdentityRow.platform == identity.platform)
            .where(IdentityRow.address == identity.address)
        )
        return await self._person(row) if row else None

    async def add(self, person: Person) -> Person:
        row = PersonRow()
        self._fill(row, person)
        self.session.add(row)
        await self.session.flush()
        person.id = row.id
        await self._add_identities(person)
        return person

    async def save(self, person: Person) -> None:
        assert person.id is not None, "save() is for people already added"
        row = await self.session.get(PersonRow, person.id)
        assert row is not None
        self._fill(row, person)
        await self._add_identities(person)

    async def all(self, role: Role | None = None) -> list[Person]:
        # The erased stay as anonymous rows for statistics; they are nobody to route to.
        query = select(PersonRow).where(PersonRow.erased_at.is_(None)).order_by(PersonRow.id)
        if role is not None:
            query = query.where(PersonRow.role == role.value)
        return [await self._person(row) for row in await self.session.scalars(query)]

    async def expert_loads(self) -> list[ExpertLoad]:
        open_counts = dict(
            (
                await self.session.execute(
                    select(TicketRow.assignee_id, func.count())
                    .where(TicketRow.status == TicketStatus.ASSIGNED.value)
                    .where(TicketRow.assignee_id.is_not(None))
                    .group_by(TicketRow.assignee_id)
                )
            ).all()
        )
        last_assigned = dict(
            (
                await self.session.execute(
                    select(TicketEventRow.expert_id, func.max(TicketEventRow.at))
                    .where(
                        TicketEventRow.kind.in_(
                            [TicketEventKind.ASSIGNED.value, TicketEventKind.REASSIGNED.value]
                        )
                    )
                    .where(TicketEventRow.expert_id.is_not(None))
                    .group_by(TicketEventRow.expert_id)
                )
            ).all()
        )
        loads = []
        for expert in await self.all(Role.EXPERT):
            assert expert.id is not None
            last = last_assigned.get(expert.id)
            loads.append(
                ExpertLoad(
                    expert,
                    open_counts.get(expert.id, 0),
                    # func.max bypasses the column type on some backends: make it aware again
                    _as_utc(last) if last is not None else None,
                )
            )
        return loads

    async def touch(self, identity: ChatIdentity, at: datetime) -> None:
        await self.session.execute(
            update(IdentityRow)
            .where(IdentityRow.platform == identity.platform)
            .where(IdentityRow.address == identity.address)
            .values(last_seen_at=at)
        )

    async def remember_language(self, identity: ChatIdentity, language: str) -> None:
        owner = (
            select(IdentityRow.person_id)
            .where(IdentityRow.platform == identity.platform)
            .where(IdentityRow.address == identity.address)
            .scalar_subquery()
        )
        await self.session.execute(
            update(PersonRow)
            .where(PersonRow.id == owner)
            .values(last_language=language)
            .execution_options(synchronize_session=False)
        )

    async def reachable_at(self, person_id: int) -> ChatIdentity | None:
        row = await self.session.scalar(
            select(IdentityRow)
            .where(IdentityRow.person_id == person_id)
            .order_by(IdentityRow.last_seen_at.desc().nulls_last(), IdentityRow.id.desc())
            .limit(1)
        )
        return ChatIdentity(row.platform, row.address) if row else None

    async def _person(self, row: PersonRow) -> Person:
        identities = await self.session.scalars(
            select(IdentityRow).where(IdentityRow.person_id == row.id).order_by(IdentityRow.id)
        )
        return Person(
            id=row.id,
            name=row.name,
            role=Role(row.role),
            city=row.city,
            country=row.country,
            languages=tuple(row.languages),
            topics=tuple(row.topics),
            capacity=row.capacity,
            away_until=row.away_until,
            ui_language=row.ui_language,
            last_language=row.last_language,
            timezone=row.timezone,
            identities=[ChatIdentity(i.platform, i.address) for i in identities],
            created_at=row.created_at,
            erased_at=row.erased_at,
        )

    @staticmethod
    def _fill(row: PersonRow, person: Person) -> None:
        assert person.created_at is not None, "a person needs created_at before it is stored"
        row.name = person.name
        row.role = person.role.value
        row.city = person.city
        row.country = person.country
        row.languages = list(person.languages)
        row.topics = list(person.topics)
        row.capacity = person.capacity
        row.away_until = person.away_until
        row.ui_language = person.ui_language
        row.last_language = person.last_language
        row.timezone = person.timezone
        row.created_at = person.created_at

    async def _add_identities(self, person: Person) -> None:
        known = set(
            (
                await self.session.execute(
                    select(IdentityRow.platform, IdentityRow.address).where(
                        IdentityRow.person_id == person.id
                    )
                )
            ).all()
        )
        for identity in person.identities:
            if (identity.platform, identity.address) not in known:
                self.session.add(
                    IdentityRow(
                        person_id=person.id, platform=identity.platform, address=identity.address
                    )
                )
        await self.session.flush()


# -- invitations --------------------------------------------------------------------------


class SqlInvites(_Repository):
    async def add(self, invite: Invite) -> Invite:
        row = InviteRow()
        _copy_invite(row, invite)
        self.session.add(row)
        await self.session.flush()
        invite.id = row.id
        return invite

    async def by_code_hash(self, code_hash: str) -> Invite | None:
        row = await self.session.scalar(select(InviteRow).where(InviteRow.code_hash == code_hash))
        if row is None:
            return None
        return Invite(
            id=row.id,
            code_hash=row.code_hash,
            role=Role(row.role),
            name=row.name,
            city=row.city,
            country=row.country,
            languages=tuple(row.languages),
            topics=tuple(row.topics),
            capacity=row.capacity,
            created_at=row.created_at,
            expires_at=row.expires_at,
            used_at=row.used_at,
            used_by=row.used_by,
        )

    async def save(self, invite: Invite) -> None:
        assert invite.id is not None
        row = await self.session.get(InviteRow, invite.id)
        assert row is not None
        _copy_invite(row, invite)
        await self.session.flush()


def _copy_invite(row: InviteRow, invite: Invite) -> None:
    row.code_hash = invite.code_hash
    row.role = invite.role.value
    row.name = invite.name
    row.city = invite.city
    row.country = invite.country
    row.languages = list(invite.languages)
    row.topics = list(invite.topics)
    row.capacity = invite.capacity
    row.created_at = invite.created_at
    row.expires_at = invite.expires_at
    row.used_at = invite.used_at
    row.used_by = invite.used_by


# -- knowledge ----------------------------------------------------------------------------


class SqlEntries(_Repository):
    async def get(self, entry_id: str) -> Entry | None:
        row = await self.session.get(EntryRow, entry_id)
        if row is None:
            return None
        return (await self._entries([row]))[0]

    async def all(self, status: EntryStatus | None = None) -> list[Entry]:
        query = select(EntryRow).order_by(EntryRow.id)
        if status is not None:
            query = query.where(EntryRow.status == status.value)
        return await self._entries(list(await self.session.scalars(query)))

    async def upsert(self, entry: Entry, at: datetime, author: str = "import") -> Upserted:
        row = await self.session.get(EntryRow, entry.id)
        before = (await self._entries([row]))[0] if row is not None else None
        if before == entry:
            return "unchanged"
        await self._add_version(before, entry, at, author)
        created = row is None
        if row is None:
            row = EntryRow(id=entry.id, created_at=at)
            self.session.add(row)
        row.title = entry.title
        row.body = entry.body
        row.topics = list(entry.topics)
        row.lang = entry.lang
        row.city = entry.city
        row.country = entry.country
        row.source = entry.source
        row.status = entry.status.value
        row.translations = translations_to_json(entry.translations)
        row.updated_at = at
        await self.session.execute(
            delete(EntryQuestionRow).where(EntryQuestionRow.entry_id == entry.id)
        )
        self.session.add_all(
            EntryQuestionRow(entry_id=entry.id, position=i, text=text)
            for i, text in enumerate(entry.questions)
        )
        await self.session.flush()
        return "created" if created else "updated"

    async def retire_all_except(self, keep: set[str], at: datetime, author: str = "import") -> int:
        query = select(EntryRow).where(EntryRow.status != EntryStatus.RETIRED.value)
        if keep:
            query = query.where(EntryRow.id.not_in(keep))
        going = await self._entries(list(await self.session.scalars(query)))
        for entry in going:
            await self.upsert(dataclasses.replace(entry, status=EntryStatus.RETIRED), at, author)
        return len(going)

    async def history(self, entry_id: str) -> list[EntryVersion]:
        rows = await self.session.scalars(
            select(EntryVersionRow)
            .where(EntryVersionRow.entry_id == entry_id)
            .order_by(EntryVersionRow.version)
        )
        return [
            EntryVersion(
                entry_id=row.entry_id,
                version=row.version,
                at=row.at,
                author=row.author,
                change=row.change,
                entry=entry_from_json(row.snapshot),
            )
            for row in rows
        ]

    async def _add_version(
        self, before: Entry | None, after: Entry, at: datetime, author: str
    ) -> None:
        latest = await self.session.scalar(
            select(func.max(EntryVersionRow.version)).where(EntryVersionRow.entry_id == after.id)
        )
        self.session.add(
            EntryVersionRow(
                entry_id=after.id,
                version=(latest or 0) + 1,
                at=at,
                author=author,
                change=describe_change(before, after),
                snapshot=entry_to_json(after),
            )
        )

    async def revision(self) -> str:
        # Every change adds a version: their number moves even when two changes share a
        # timestamp (a fast publish after a promote, a test's frozen clock). One statement:
        # this runs before every message.
        versions = select(func.count()).select_from(EntryVersionRow).scalar_subquery()
        count, latest, changes = (
            await self.session.execute(
                select(func.count(), func.max(EntryRow.updated_at), versions).select_from(EntryRow)
            )
        ).one()
        return f"{count}:{latest}:{changes}"

    async def _entries(self, rows: Sequence[EntryRow]) -> list[Entry]:
        if not rows:
            return []
        phrasings: dict[str, list[str]] = {row.id: [] for row in rows}
        for entry_id, text in await self.session.execute(
            select(EntryQuestionRow.entry_id, EntryQuestionRow.text)
            .where(EntryQuestionRow.entry_id.in_(list(phrasings)))
            .order_by(EntryQuestionRow.entry_id, EntryQuestionRow.position)
        ):
            phrasings[entry_id].append(text)
        return [
            Entry(
                id=row.id,
                title=row.title,
                questions=tuple(phrasings[row.id]),
                body=row.body,
                topics=tuple(row.topics),
                lang=row.lang,
                city=row.city,
                country=row.country,
                source=row.source,
                status=EntryStatus(row.status),
                translations=translations_from_json(row.translations),
            )
            for row in rows
        ]


# -- questions and tickets ---------------------------------------------------------------


def _candidates_to_json(candidates: Sequence[Candidate]) -> list[dict[str, Any]]:
    return [{"id": c.entry_id, "title": c.title, "score": c.score} for c in candidates]


def _candidates_from_json(data: Sequence[dict[str, Any]]) -> tuple[Candidate, ...]:
    return tuple(Candidate(str(c["id"]), str(c["title"]), float(c["score"])) for c in data)


class SqlQuestions(_Repository):
    async def add(self, question: AskedQuestion) -> AskedQuestion:
        row = QuestionRow()
        self._fill(row, question)
        self.session.add(row)
        await self.session.flush()
        question.id = row.id
        return question

    async def get(self, question_id: int) -> AskedQuestion | None:
        row = await self.session.get(QuestionRow, question_id)
        return self._question(row) if row is not None else None

    async def since(self, at: datetime) -> list[AskedQuestion]:
        query = select(QuestionRow).where(QuestionRow.created_at >= at).order_by(QuestionRow.id)
        return [self._question(row) for row in await self.session.scalars(query)]

    @staticmethod
    def _question(row: QuestionRow) -> AskedQuestion:
        return AskedQuestion(
            id=row.id,
            person_id=row.person_id,
            text=row.text,
            normalized=row.normalized,
            language=row.language,
            action=Action(row.action),
            candidates=_candidates_from_json(row.candidates),
            suggested=_candidates_from_json(row.suggested),
            entry_id=row.entry_id,
            feedback=Feedback(row.feedback) if row.feedback else None,
            ticket_id=row.ticket_id,
            created_at=row.created_at,
        )

    async def save(self, question: AskedQuestion) -> None:
        assert question.id is not None
        row = await self.session.get(QuestionRow, question.id)
        assert row is not None
        self._fill(row, question)
        await self.session.flush()

    async def count_by_action(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(QuestionRow.action, func.count()).group_by(QuestionRow.action)
        )
        return dict(rows.all())

    @staticmethod
    def _fill(row: QuestionRow, question: AskedQuestion) -> None:
        assert question.created_at is not None
        row.person_id = question.person_id
        row.text = question.text
        row.normalized = question.normalized
        row.language = question.language
        row.action = question.action.value
        row.candidates = _candidates_to_json(question.candidates)
        row.suggested = _candidates_to_json(question.suggested)
        row.entry_id = question.entry_id
        row.feedback = question.feedback.value if question.feedback else None
        row.ticket_id = question.ticket_id
        row.created_at = question.created_at


class SqlTickets(_Repository):
    async def add(self, ticket: Ticket) -> Ticket:
        row = TicketRow()
        self._fill(row, ticket)
        self.session.add(row)
        await self.session.flush()
        ticket.id = row.id
        await self._add_events(ticket)
        return ticket

    async def get(self, ticket_id: int) -> Ticket | None:
        row = await self.session.get(TicketRow, ticket_id)
        if row is None:
            return None
        return (await self._tickets([row]))[0]

    async def save(self, ticket: Ticket) -> None:
        assert ticket.id is not None
        row = await self.session.get(TicketRow, ticket.id)
        assert row is not None
        self._fill(row, ticket)
        await self._add_events(ticket)

    async def find(
        self,
        *,
        official_id: int | None = None,
        assignee_id: int | None = None,
        statuses: Sequence[TicketStatus] | None = None,
        limit: int = 50,
    ) -> list[Ticket]:
        query = select(TicketRow).order_by(TicketRow.id.desc()).limit(limit)
        if official_id is not None:
            query = query.where(TicketRow.official_id == official_id)
        if assignee_id is not None:
            query = query.where(TicketRow.assignee_id == assignee_id)
        if statuses is not None:
            query = query.where(TicketRow.status.in_([s.value for s in statuses]))
        return await self._tickets(list(await self.session.scalars(query)))

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(TicketRow.status, func.count()).group_by(TicketRow.status)
        )
        return dict(rows.all())

    async def changed_since(self, at: datetime) -> list[Ticket]:
        query = select(TicketRow).where(TicketRow.updated_at >= at).order_by(TicketRow.id)
        return await self._tickets(list(await self.session.scalars(query)))

    async def _tickets(self, rows: Sequence[TicketRow]) -> list[Ticket]:
        if not rows:
            return []
        events: dict[int, list[TicketEvent]] = {row.id: [] for row in rows}
        for event in await self.session.scalars(
            select(TicketEventRow)
            .where(TicketEventRow.ticket_id.in_(list(events)))
            .order_by(TicketEventRow.id)
        ):
            events[event.ticket_id].append(
                TicketEvent(
                    id=event.id,
                    kind=TicketEventKind(event.kind),
                    at=event.at,
                    actor_id=event.actor_id,
                    expert_id=event.expert_id,
                    detail=event.detail,
                )
            )
        return [
            Ticket(
                id=row.id,
                question_id=row.question_id,
                official_id=row.official_id,
                text=row.text,
                language=row.language,
                topics=tuple(row.topics),
                status=TicketStatus(row.status),
                assignee_id=row.assignee_id,
                answer=row.answer,
                answered_by=row.answered_by,
                answered_at=row.answered_at,
                rating=Feedback(row.rating) if row.rating else None,
                score=row.score,
                comment=row.comment,
                follow_up=FollowUp(row.follow_up) if row.follow_up else None,
                created_at=row.created_at,
                events=events[row.id],
            )
            for row in rows
        ]

    @staticmethod
    def _fill(row: TicketRow, ticket: Ticket) -> None:
        row.question_id = ticket.question_id
        row.official_id = ticket.official_id
        row.text = ticket.text
        row.language = ticket.language
        row.topics = list(ticket.topics)
        row.status = ticket.status.value
        row.assignee_id = ticket.assignee_id
        row.answer = ticket.answer
        row.answered_by = ticket.answered_by
        row.answered_at = ticket.answered_at
        row.rating = ticket.rating.value if ticket.rating else None
        row.score = ticket.score
        row.comment = ticket.comment
        row.follow_up = ticket.follow_up.value if ticket.follow_up else None
        row.created_at = ticket.created_at
        row.updated_at = ticket.events[-1].at if ticket.events else ticket.created_at

    async def _add_events(self, ticket: Ticket) -> None:
        new = [(i, e) for i, e in enumerate(ticket.events) if e.id is None]
        rows = [
            TicketEventRow(
                ticket_id=ticket.id,
                at=event.at,
                kind=event.kind.value,
                actor_id=event.actor_id,
                expert_id=event.expert_id,
                detail=event.detail,
            )
            for _, event in new
        ]
        self.session.add_all(rows)
        await self.session.flush()
        # The history is append-only: give the new events their ids so they are not added twice.
        for (index, event), row in zip(new, rows, strict=True):
            ticket.events[index] = dataclasses.replace(event, id=row.id)


# -- messages in and out -----------------------------------------------------------------


def inbound_key(platform: str, message_id: str) -> str:
    """What the inbound log keeps of a platform message id: its hash. A Telegram private
    chat's id is the user's id, and recognising a redelivered message needs no more."""
    return hashlib.sha256(f"{platform}\x00{message_id}".encode()).hexdigest()


class SqlOutbox(_Repository):
    async def add(
        self,
        identity: ChatIdentity,
        person_id: int | None,
        language: str | None,
        reply: Reply,
        at: datetime,
    ) -> int:
        row = OutboxRow(
            platform=identity.platform,
            address=identity.address,
            person_id=person_id,
            language=language,
            payload=reply.to_json(),
            ref=reply.ref,
            created_at=at,
        )
        self.session.add(row)
        await self.session.flush()
        mentioned = set(reply.mentions) - {person_id}
        if mentioned:
            self.session.add_all(
                OutboxMentionRow(outbox_id=row.id, person_id=someone) for someone in mentioned
            )
            await self.session.flush()
        return row.id

    async def next_due(self, platforms: Sequence[str], now: datetime) -> OutboxItem | None:
        # The row lock is held until the unit of work ends (SQLite ignores it: one worker).
        row = await self.session.scalar(
            select(OutboxRow)
            .where(OutboxRow.delivered_at.is_(None), OutboxRow.failed_at.is_(None))
            .where(OutboxRow.platform.in_(list(platforms)))
            .where(or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now))
            .order_by(OutboxRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return _outbox_item(row) if row is not None else None

    async def mark_delivered(self, item_id: int, message_id: str | None, at: datetime) -> None:
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(delivered_at=at, message_id=message_id, attempts=OutboxRow.attempts + 1)
        )

    async def mark_failed(
        self, item_id: int, error: str, retry_at: datetime, failing_since: datetime
    ) -> None:
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(
                attempts=OutboxRow.attempts + 1,
                last_error=error[:2000],
                next_attempt_at=retry_at,
                failing_since=func.coalesce(OutboxRow.failing_since, failing_since),
            )
        )

    async def give_up(self, item_id: int, error: str, at: datetime) -> None:
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(
                attempts=OutboxRow.attempts + 1,
                last_error=error[:2000],
                failed_at=at,
                failing_since=func.coalesce(OutboxRow.failing_since, at),
            )
        )

    async def failed(self, limit: int = 100) -> list[OutboxItem]:
        rows = await self.session.scalars(
            select(OutboxRow)
            .where(OutboxRow.failed_at.is_not(None), OutboxRow.delivered_at.is_(None))
            .order_by(OutboxRow.id.desc())
            .limit(limit)
        )
        return [_outbox_item(row) for row in rows]

    async def get(self, item_id: int) -> OutboxItem | None:
        row = await self.session.get(OutboxRow, item_id)
        return _outbox_item(row) if row is not None else None

    async def forget(self, item_id: int) -> None:
        await self.session.execute(delete(OutboxRow).where(OutboxRow.id == item_id))

    async def resend(self, item_id: int) -> bool:
        done = await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.failed_at.is_not(None))
            .where(OutboxRow.delivered_at.is_(None))
            .values(failed_at=None, failing_since=None, next_attempt_at=None, attempts=0)
        )
        return bool(getattr(done, "rowcount", 0))

    async def sent_reply(self, platform: str, message_id: str) -> Reply | None:
        payload = await self.session.scalar(
            select(OutboxRow.payload)
            .where(OutboxRow.platform == platform)
            .where(OutboxRow.message_id == message_id)
            .limit(1)
        )
        return Reply.from_json(payload) if payload is not None else None


def _outbox_item(row: OutboxRow) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        identity=ChatIdentity(row.platform, row.address),
        person_id=row.person_id,
        language=row.language,
        reply=Reply.from_json(row.payload),
        created_at=row.created_at,
        attempts=row.attempts,
        last_error=row.last_error,
        failing_since=row.failing_since,
        failed_at=row.failed_at,
    )


class SqlInbound(_Repository):
    async def claim(
        self, platform: str, message_id: str, person_id: int | None, at: datetime
    ) -> bool:
        key = inbound_key(platform, message_id)
        found = await self.session.scalar(
            select(InboundRow.id)
            .where(InboundRow.platform == platform)
            .where(InboundRow.message_id == key)
        )
        if found is not None:
            return False
        self.session.add(
            InboundRow(platform=platform, message_id=key, person_id=person_id, received_at=at)
        )
        try:
            # The unique key decides between workers: on PostgreSQL a second worker's insert
            # waits for the first one's transaction and fails if it committed.
            await self.session.flush()
        except IntegrityError:
            await self.session.rollback()
            return False
        return True


class SqlMenus(_Repository):
    async def get(self, person_id: int) -> Menus:
        row = await self.session.get(MenuRow, person_id)
        if row is None:
            return Menus()
        stack = tuple(
            Menu(Reply.from_json(m["reply"]), bool(m.get("confirms", False))) for m in row.actions
        )
        return Menus(stack, row.live)

    async def set(self, person_id: int, menus: Menus, at: datetime) -> None:
        stored = [{"reply": m.reply.to_json(), "confirms": m.confirms} for m in menus.stack]
        row = await self.session.get(MenuRow, person_id)
        if row is None:
            self.session.add(
                MenuRow(person_id=person_id, actions=stored, live=menus.live, updated_at=at)
            )
        else:
            row.actions = stored
            row.live = menus.live
            row.updated_at = at
        await self.session.flush()

    async def stale(self, person_id: int) -> None:
        await self.session.execute(
            update(MenuRow)
            .where(MenuRow.person_id == person_id, MenuRow.live.is_(True))
            .values(live=False)
            .execution_options(synchronize_session=False)
        )


class SqlEmbeddings(_Repository):
    async def get_many(self, model: str, text_hashes: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        wanted = list(dict.fromkeys(text_hashes))
        for start in range(0, len(wanted), 500):  # keep IN lists short on every backend
            rows = await self.session.execute(
                select(EmbeddingRow.text_hash, EmbeddingRow.vector)
                .where(EmbeddingRow.model == model)
                .where(EmbeddingRow.text_hash.in_(wanted[start : start + 500]))
            )
            found.update({text_hash: bytes(vector) for text_hash, vector in rows})
        return found

    async def put_many(self, model: str, vectors: dict[str, bytes]) -> None:
        known = await self.get_many(model, list(vectors))
        self.session.add_all(
            EmbeddingRow(model=model, text_hash=text_hash, vector=vector)
            for text_hash, vector in vectors.items()
            if text_hash not in known
        )
        await self.session.flush()


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- proposed phrasings -------------------------------------------------------------------


class SqlProposals(_Repository):
    async def add(self, proposal: Proposal) -> Proposal:
        row = ProposalRow(
            entry_id=proposal.entry_id,
            text=proposal.text,
            language=proposal.language,
            question_id=proposal.question_id,
            status=proposal.status.value,
            created_at=proposal.created_at,
        )
        self.session.add(row)
        await self.session.flush()
        proposal.id = row.id
        return proposal

    async def get(self, proposal_id: int) -> Proposal | None:
        row = await self.session.get(ProposalRow, proposal_id)
        return self._proposal(row) if row else None

    async def find(
        self, *, status: ProposalStatus | None = None, entry_id: str | None = None
    ) -> list[Proposal]:
        query = select(ProposalRow).order_by(ProposalRow.id)
        if status is not None:
            query = query.where(ProposalRow.status == status.value)
        if entry_id is not None:
            query = query.where(ProposalRow.entry_id == entry_id)
        return [self._proposal(row) for row in await self.session.scalars(query)]

    async def save(self, proposal: Proposal) -> None:
        assert proposal.id is not None
        row = await self.session.get(ProposalRow, proposal.id)
        assert row is not None
        row.status = proposal.status.value
        row.decided_by = proposal.decided_by
        row.decided_at = proposal.decided_at

    @staticmethod
    def _proposal(row: ProposalRow) -> Proposal:
        return Proposal(
            id=row.id,
            entry_id=row.entry_id,
            text=row.text,
            language=row.language,
            question_id=row.question_id,
            status=ProposalStatus(row.status),
            created_at=row.created_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
        )


class SqlConnections(_Repository):
    async def add(self, request: ConnectionRequest) -> ConnectionRequest:
        row = ConnectionRequestRow(
            official_id=request.official_id,
            entry_id=request.entry_id,
            to_city=request.to_city,
            question_id=request.question_id,
            status=request.status.value,
            created_at=request.created_at,
        )
        self.session.add(row)
        await self.session.flush()
        request.id = row.id
        return request

    async def get(self, request_id: int) -> ConnectionRequest | None:
        row = await self.session.get(ConnectionRequestRow, request_id)
        if row is None:
            return None
        return ConnectionRequest(
            id=row.id,
            official_id=row.official_id,
            entry_id=row.entry_id,
            to_city=row.to_city,
            question_id=row.question_id,
            status=ConnectionStatus(row.status),
            created_at=row.created_at,
        )

    async def save(self, request: ConnectionRequest) -> None:
        assert request.id is not None
        row = await self.session.get(ConnectionRequestRow, request.id)
        assert row is not None
        row.status = request.status.value


# -- scheduled actions --------------------------------------------------------------------

_CLAIMED = "running"
_CLAIM_CANDIDATES = 5


class SqlSchedule(_Repository):
    async def add(self, action: ScheduledAction) -> ScheduledAction:
        row = ScheduledActionRow(
            kind=action.kind.value,
            due_at=action.due_at,
            person_id=action.person_id,
            ticket_id=action.ticket_id,
            created_at=action.created_at or action.due_at,
            done_at=action.done_at,
            outcome=action.outcome,
        )
        self.session.add(row)
        await self.session.flush()
        action.id = row.id
        return action

    async def claim_due(self, now: datetime) -> ScheduledAction | None:
        # SKIP LOCKED (PostgreSQL) lets several workers take different rows without waiting
        # for each other; SQLite ignores it and serialises writers instead. Either way the
        # UPDATE below is what makes the claim exclusive.
        query = (
            select(ScheduledActionRow)
            .where(ScheduledActionRow.done_at.is_(None), ScheduledActionRow.due_at <= now)
            .order_by(ScheduledActionRow.due_at, ScheduledActionRow.id)
            .limit(_CLAIM_CANDIDATES)
            .with_for_update(skip_locked=True)
        )
        for row in list(await self.session.scalars(query)):
            claimed = await self.session.execute(
                update(ScheduledActionRow)
                .where(ScheduledActionRow.id == row.id, ScheduledActionRow.done_at.is_(None))
                .values(done_at=now, outcome=_CLAIMED)
                .execution_options(synchronize_session=False)
            )
            if getattr(claimed, "rowcount", 0) == 1:
                return self._action(row, done_at=None)
            # Another worker was faster with this one: try the next.
        return None

    async def finish(self, action_id: int, outcome: str) -> None:
        await self.session.execute(
            update(ScheduledActionRow)
            .where(ScheduledActionRow.id == action_id)
            .values(outcome=outcome)
            .execution_options(synchronize_session=False)
        )

    async def postpone(self, action_id: int, due_at: datetime) -> None:
        await self.session.execute(
            update(ScheduledActionRow)
            .where(ScheduledActionRow.id == action_id)
            .values(done_at=None, due_at=due_at, outcome="")
            .execution_options(synchronize_session=False)
        )

    async def pending(
        self,
        *,
        ticket_id: int | None = None,
        person_id: int | None = None,
        kinds: Sequence[ActionKind] | None = None,
    ) -> list[ScheduledAction]:
        query = (
            select(ScheduledActionRow)
            .where(ScheduledActionRow.done_at.is_(None))
            .order_by(ScheduledActionRow.due_at, ScheduledActionRow.id)
        )
        if ticket_id is not None:
            query = query.where(ScheduledActionRow.ticket_id == ticket_id)
        if person_id is not None:
            query = query.where(ScheduledActionRow.person_id == person_id)
        if kinds is not None:
            query = query.where(ScheduledActionRow.kind.in_([k.value for k in kinds]))
        return [self._action(row) for row in await self.session.scalars(query)]

    async def cancel(self, action_ids: Sequence[int], now: datetime, outcome: str) -> None:
        if not action_ids:
            return
        await self.session.execute(
            update(ScheduledActionRow)
            .where(ScheduledActionRow.id.in_(list(action_ids)))
            .where(ScheduledActionRow.done_at.is_(None))
            .values(done_at=now, outcome=outcome)
            .execution_options(synchronize_session=False)
        )

    @staticmethod
    def _action(row: ScheduledActionRow, **overrides: Any) -> ScheduledAction:
        action = ScheduledAction(
            id=row.id,
            kind=ActionKind(row.kind),
            due_at=row.due_at,
            person_id=row.person_id,
            ticket_id=row.ticket_id,
            created_at=row.created_at,
            done_at=row.done_at,
            outcome=row.outcome,
        )
        return dataclasses.replace(action, **overrides) if overrides else action
