"""Hand-written in-memory implementations of the storage ports, for unit tests of services."""

import copy
import dataclasses
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import numpy as np

from helpdesk.domain.audit import AuditAction, AuditEvent
from helpdesk.domain.curation import (
    ConnectionRequest,
    EntryVersion,
    Proposal,
    ProposalStatus,
    describe_change,
)
from helpdesk.domain.invites import Invite
from helpdesk.domain.knowledge import Entry, EntryStatus
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.privacy import Redaction
from helpdesk.domain.questions import AskedQuestion
from helpdesk.domain.routing import ExpertLoad
from helpdesk.domain.schedule import ActionKind, ScheduledAction
from helpdesk.domain.tickets import Ticket, TicketEventKind, TicketStatus
from helpdesk.domain.web_access import SignInLink, WebSession
from helpdesk.i18n.messages import Reply
from helpdesk.services.choices import Menus
from helpdesk.services.ports import Erasure, OutboxItem, Upserted


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class FakeStore:
    """What a database would hold; shared by every unit of work, copied in and out so that
    an uncommitted change is really lost."""

    def __init__(self) -> None:
        self.people: dict[int, Person] = {}
        self.last_seen: dict[ChatIdentity, datetime] = {}
        self.invites: dict[int, Invite] = {}
        self.entries: dict[str, Entry] = {}
        self.entry_changes = 0
        self.questions: dict[int, AskedQuestion] = {}
        self.tickets: dict[int, Ticket] = {}
        self.outbox: dict[int, dict[str, object]] = {}
        self.inbound: set[tuple[str, str]] = set()
        self.menus: dict[int, Menus] = {}
        self.embeddings: dict[tuple[str, str], bytes] = {}
        self.schedule: dict[int, ScheduledAction] = {}
        self.versions: dict[str, list[EntryVersion]] = {}
        self.proposals: dict[int, Proposal] = {}
        self.connections: dict[int, ConnectionRequest] = {}
        self.audit: list[AuditEvent] = []
        self.erased: set[int] = set()
        self.web_links: dict[int, SignInLink] = {}
        self.web_sessions: dict[int, WebSession] = {}
        self.ids = itertools.count(1)
        self.commits = 0


class _People:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def get(self, person_id: int) -> Person | None:
        return copy.deepcopy(self.store.people.get(person_id))

    async def by_identity(self, identity: ChatIdentity) -> Person | None:
        for person in self.store.people.values():
            if identity in person.identities:
                return copy.deepcopy(person)
        return None

    async def add(self, person: Person) -> Person:
        person.id = next(self.store.ids)
        self.store.people[person.id] = copy.deepcopy(person)
        return person

    async def save(self, person: Person) -> None:
        assert person.id is not None
        self.store.people[person.id] = copy.deepcopy(person)

    async def all(self, role: Role | None = None) -> list[Person]:
        return [
            copy.deepcopy(p)
            for p in self.store.people.values()
            if (role is None or p.role is role) and p.id not in self.store.erased
        ]

    async def expert_loads(self) -> list[ExpertLoad]:
        loads = []
        for expert in await self.all(Role.EXPERT):
            open_tickets = sum(
                1
                for t in self.store.tickets.values()
                if t.assignee_id == expert.id and t.status is TicketStatus.ASSIGNED
            )
            times = [
                e.at
                for t in self.store.tickets.values()
                for e in t.events
                if e.expert_id == expert.id
                and e.kind in (TicketEventKind.ASSIGNED, TicketEventKind.REASSIGNED)
            ]
            loads.append(ExpertLoad(expert, open_tickets, max(times) if times else None))
        return loads

    async def touch(self, identity: ChatIdentity, at: datetime) -> None:
        self.store.last_seen[identity] = at

    async def remember_language(self, identity: ChatIdentity, language: str) -> None:
        for person in self.store.people.values():
            if identity in person.identities:
                person.last_language = language

    async def reachable_at(self, person_id: int) -> ChatIdentity | None:
        person = self.store.people.get(person_id)
        if person is None or not person.identities:
            return None
        never = datetime.min.replace(tzinfo=UTC)
        return max(reversed(person.identities), key=lambda i: self.store.last_seen.get(i, never))


class _Invites:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def add(self, invite: Invite) -> Invite:
        invite.id = next(self.store.ids)
        self.store.invites[invite.id] = copy.deepcopy(invite)
        return invite

    async def get(self, invite_id: int) -> Invite | None:
        return copy.deepcopy(self.store.invites.get(invite_id))

    async def recent(self, limit: int = 100) -> list[Invite]:
        found = sorted(self.store.invites.values(), key=lambda i: i.id or 0, reverse=True)
        return copy.deepcopy(found[:limit])

    async def by_code_hash(self, code_hash: str) -> Invite | None:
        for invite in self.store.invites.values():
            if invite.code_hash == code_hash:
                return copy.deepcopy(invite)
        return None

    async def save(self, invite: Invite) -> None:
        assert invite.id is not None
        self.store.invites[invite.id] = copy.deepcopy(invite)


class _Entries:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def get(self, entry_id: str) -> Entry | None:
        return self.store.entries.get(entry_id)

    async def all(self, status: EntryStatus | None = None) -> list[Entry]:
        return sorted(
            (e for e in self.store.entries.values() if status is None or e.status is status),
            key=lambda e: e.id,
        )

    async def upsert(self, entry: Entry, at: datetime, author: str = "import") -> Upserted:
        old = self.store.entries.get(entry.id)
        if old == entry:
            return "unchanged"
        versions = self.store.versions.setdefault(entry.id, [])
        versions.append(
            EntryVersion(
                entry.id, len(versions) + 1, at, author, describe_change(old, entry), entry
            )
        )
        self.store.entries[entry.id] = entry
        self.store.entry_changes += 1
        return "created" if old is None else "updated"

    async def retire_all_except(self, keep: set[str], at: datetime, author: str = "import") -> int:
        retired = 0
        for entry_id, entry in list(self.store.entries.items()):
            if entry_id not in keep and entry.status is not EntryStatus.RETIRED:
                await self.upsert(
                    dataclasses.replace(entry, status=EntryStatus.RETIRED), at, author
                )
                retired += 1
        return retired

    async def history(self, entry_id: str) -> list[EntryVersion]:
        return list(self.store.versions.get(entry_id, []))

    async def revision(self) -> str:
        return str(self.store.entry_changes)


class _Questions:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def add(self, question: AskedQuestion) -> AskedQuestion:
        question.id = next(self.store.ids)
        self.store.questions[question.id] = copy.deepcopy(question)
        return question

    async def get(self, question_id: int) -> AskedQuestion | None:
        return copy.deepcopy(self.store.questions.get(question_id))

    async def save(self, question: AskedQuestion) -> None:
        assert question.id is not None
        self.store.questions[question.id] = copy.deepcopy(question)

    async def count_by_action(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for q in self.store.questions.values():
            counts[q.action.value] = counts.get(q.action.value, 0) + 1
        return counts

    async def since(self, at: datetime) -> list[AskedQuestion]:
        return [
            copy.deepcopy(q)
            for _, q in sorted(self.store.questions.items())
            if q.created_at is not None and q.created_at >= at
        ]


class _Tickets:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def add(self, ticket: Ticket) -> Ticket:
        ticket.id = next(self.store.ids)
        self.store.tickets[ticket.id] = copy.deepcopy(ticket)
        return ticket

    async def get(self, ticket_id: int) -> Ticket | None:
        return copy.deepcopy(self.store.tickets.get(ticket_id))

    async def save(self, ticket: Ticket) -> None:
        assert ticket.id is not None
        self.store.tickets[ticket.id] = copy.deepcopy(ticket)

    async def find(
        self,
        *,
        official_id: int | None = None,
        assignee_id: int | None = None,
        statuses: Sequence[TicketStatus] | None = None,
        limit: int = 50,
    ) -> list[Ticket]:
        found = [
            copy.deepcopy(t)
            for t in sorted(self.store.tickets.values(), key=lambda t: -(t.id or 0))
            if (official_id is None or t.official_id == official_id)
            and (assignee_id is None or t.assignee_id == assignee_id)
            and (statuses is None or t.status in statuses)
        ]
        return found[:limit]

    async def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.store.tickets.values():
            counts[t.status.value] = counts.get(t.status.value, 0) + 1
        return counts

    async def changed_since(self, at: datetime) -> list[Ticket]:
        return [
            copy.deepcopy(t)
            for t in self.store.tickets.values()
            if (t.events[-1].at if t.events else t.created_at) >= at
        ]


class _Outbox:
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.added: list[int] = []

    async def add(
        self,
        identity: ChatIdentity,
        person_id: int | None,
        language: str | None,
        reply: Reply,
        at: datetime,
    ) -> int:
        item_id = next(self.store.ids)
        self.store.outbox[item_id] = {
            "identity": identity,
            "person_id": person_id,
            "language": language,
            "reply": reply,
            "at": at,
            "delivered": False,
            "message_id": None,
        }
        self.added.append(item_id)
        return item_id

    async def take(
        self, item_ids: Sequence[int], platforms: Sequence[str], now: datetime
    ) -> list[OutboxItem]:
        due = []
        for item_id in sorted(item_ids):
            row = self.store.outbox.get(item_id)
            if row is None or row["delivered"] or row.get("failed_at"):
                continue
            identity, retry_at = row["identity"], row.get("retry_at")
            assert isinstance(identity, ChatIdentity)
            if identity.platform in platforms and not (
                isinstance(retry_at, datetime) and retry_at > now
            ):
                due.append(self._item(item_id))
        return due

    async def mark_all_delivered(
        self, sent: Sequence[tuple[int, str | None]], at: datetime
    ) -> None:
        for item_id, message_id in sent:
            await self.mark_delivered(item_id, message_id, at)

    async def next_due(self, platforms: Sequence[str], now: datetime) -> OutboxItem | None:
        for item_id, row in sorted(self.store.outbox.items()):
            identity = row["identity"]
            assert isinstance(identity, ChatIdentity)
            if row["delivered"] or row.get("failed_at") or identity.platform not in platforms:
                continue
            retry_at = row.get("retry_at")
            if isinstance(retry_at, datetime) and retry_at > now:
                continue
            return self._item(item_id)
        return None

    def _item(self, item_id: int) -> OutboxItem:
        row = self.store.outbox[item_id]
        identity, reply, at = row["identity"], row["reply"], row["at"]
        assert isinstance(identity, ChatIdentity)
        assert isinstance(reply, Reply) and isinstance(at, datetime)
        person_id, language = row["person_id"], row["language"]
        assert person_id is None or isinstance(person_id, int)
        assert language is None or isinstance(language, str)
        attempts, error = row.get("attempts", 0), row.get("error")
        since, failed_at = row.get("failing_since"), row.get("failed_at")
        assert isinstance(attempts, int) and (error is None or isinstance(error, str))
        assert since is None or isinstance(since, datetime)
        assert failed_at is None or isinstance(failed_at, datetime)
        return OutboxItem(
            item_id, identity, person_id, language, reply, at, attempts, error, since, failed_at
        )

    async def mark_delivered(self, item_id: int, message_id: str | None, at: datetime) -> None:
        self.store.outbox[item_id].update(delivered=True, message_id=message_id)

    async def mark_failed(
        self, item_id: int, error: str, retry_at: datetime, failing_since: datetime
    ) -> None:
        row = self.store.outbox[item_id]
        attempts = row.get("attempts", 0)
        assert isinstance(attempts, int)
        row.update(error=error, retry_at=retry_at, attempts=attempts + 1)
        row.setdefault("failing_since", failing_since)

    async def give_up(self, item_id: int, error: str, at: datetime) -> None:
        row = self.store.outbox[item_id]
        attempts = row.get("attempts", 0)
        assert isinstance(attempts, int)
        row.update(error=error, failed_at=at, attempts=attempts + 1)
        row.setdefault("failing_since", at)

    async def failed(self, limit: int = 100) -> list[OutboxItem]:
        found = [
            self._item(item_id)
            for item_id, row in sorted(self.store.outbox.items(), reverse=True)
            if row.get("failed_at") and not row["delivered"]
        ]
        return found[:limit]

    async def get(self, item_id: int) -> OutboxItem | None:
        return self._item(item_id) if item_id in self.store.outbox else None

    async def forget(self, item_id: int) -> None:
        self.store.outbox.pop(item_id, None)

    async def resend(self, item_id: int) -> bool:
        row = self.store.outbox.get(item_id)
        if row is None or not row.get("failed_at") or row["delivered"]:
            return False
        for key in ("failed_at", "failing_since", "retry_at"):
            row.pop(key, None)
        row["attempts"] = 0
        return True

    async def sent_reply(self, platform: str, message_id: str) -> Reply | None:
        for row in self.store.outbox.values():
            identity, reply = row["identity"], row["reply"]
            assert isinstance(identity, ChatIdentity) and isinstance(reply, Reply)
            if identity.platform == platform and row["message_id"] == message_id:
                return reply
        return None


class _Inbound:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def claim(
        self, platform: str, message_id: str, person_id: int | None, at: datetime
    ) -> bool:
        if (platform, message_id) in self.store.inbound:
            return False
        self.store.inbound.add((platform, message_id))
        return True


class _Menus:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def get(self, person_id: int) -> Menus:
        return self.store.menus.get(person_id, Menus())

    async def set(self, person_id: int, menus: Menus, at: datetime) -> None:
        self.store.menus[person_id] = menus

    async def stale(self, person_id: int) -> None:
        menus = self.store.menus.get(person_id)
        if menus is not None:
            self.store.menus[person_id] = dataclasses.replace(menus, live=False)


class _Embeddings:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def get_many(self, model: str, text_hashes: Sequence[str]) -> dict[str, bytes]:
        return {
            h: self.store.embeddings[(model, h)]
            for h in text_hashes
            if (model, h) in self.store.embeddings
        }

    async def put_many(self, model: str, vectors: dict[str, bytes]) -> None:
        for text_hash, vector in vectors.items():
            self.store.embeddings[(model, text_hash)] = vector


class _Schedule:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def add(self, action: ScheduledAction) -> ScheduledAction:
        action.id = next(self.store.ids)
        self.store.schedule[action.id] = dataclasses.replace(action)
        return action

    async def claim_due(self, now: datetime) -> ScheduledAction | None:
        due = [a for a in self.store.schedule.values() if a.done_at is None and a.due_at <= now]
        if not due:
            return None
        action = min(due, key=lambda a: (a.due_at, a.id or 0))
        claimed = dataclasses.replace(action)
        action.done_at, action.outcome = now, "running"
        return claimed

    async def finish(self, action_id: int, outcome: str) -> None:
        self.store.schedule[action_id].outcome = outcome

    async def postpone(self, action_id: int, due_at: datetime) -> None:
        action = self.store.schedule[action_id]
        if action.done_at is None or action.outcome == "running":
            action.done_at, action.due_at, action.outcome = None, due_at, ""

    async def pending(
        self,
        *,
        ticket_id: int | None = None,
        person_id: int | None = None,
        kinds: Sequence[ActionKind] | None = None,
    ) -> list[ScheduledAction]:
        found = [
            dataclasses.replace(a)
            for a in self.store.schedule.values()
            if a.done_at is None
            and (ticket_id is None or a.ticket_id == ticket_id)
            and (person_id is None or a.person_id == person_id)
            and (kinds is None or a.kind in kinds)
        ]
        return sorted(found, key=lambda a: (a.due_at, a.id or 0))

    async def cancel(self, action_ids: Sequence[int], now: datetime, outcome: str) -> None:
        for action_id in action_ids:
            action = self.store.schedule[action_id]
            if action.done_at is None:
                action.done_at, action.outcome = now, outcome


class _Proposals:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def add(self, proposal: Proposal) -> Proposal:
        proposal.id = next(self.store.ids)
        self.store.proposals[proposal.id] = copy.deepcopy(proposal)
        return proposal

    async def get(self, proposal_id: int) -> Proposal | None:
        return copy.deepcopy(self.store.proposals.get(proposal_id))

    async def find(
        self, *, status: ProposalStatus | None = None, entry_id: str | None = None
    ) -> list[Proposal]:
        return [
            copy.deepcopy(p)
            for _, p in sorted(self.store.proposals.items())
            if (status is None or p.status is status)
            and (entry_id is None or p.entry_id == entry_id)
        ]

    async def save(self, proposal: Proposal) -> None:
        assert proposal.id is not None
        self.store.proposals[proposal.id] = copy.deepcopy(proposal)


class _Connections:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def add(self, request: ConnectionRequest) -> ConnectionRequest:
        request.id = next(self.store.ids)
        self.store.connections[request.id] = copy.deepcopy(request)
        return request

    async def get(self, request_id: int) -> ConnectionRequest | None:
        return copy.deepcopy(self.store.connections.get(request_id))

    async def recent(self, limit: int = 100) -> list[ConnectionRequest]:
        found = sorted(self.store.connections.values(), key=lambda r: r.id or 0, reverse=True)
        return copy.deepcopy(found[:limit])

    async def save(self, request: ConnectionRequest) -> None:
        assert request.id is not None
        self.store.connections[request.id] = copy.deepcopy(request)


class _Audit:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def add(self, event: AuditEvent) -> None:
        self.store.audit.append(dataclasses.replace(event, id=len(self.store.audit) + 1))

    async def find(
        self,
        *,
        since: datetime | None = None,
        action: AuditAction | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        found = [
            e
            for e in reversed(self.store.audit)
            if (since is None or e.at >= since) and (action is None or e.action is action)
        ]
        return found[:limit]


class _PersonalData:
    """The parts of erasure the core can observe: the person, their questions, tickets."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def export(self, person_id: int) -> dict[str, Any] | None:
        person = self.store.people.get(person_id)
        if person is None:
            return None
        return {
            "person": {"id": person.id, "name": person.name, "role": person.role.value},
            "questions": [
                {"id": q.id, "text": q.text}
                for q in self.store.questions.values()
                if q.person_id == person_id
            ],
        }

    async def erase(self, person_id: int, now: datetime, redaction: Redaction) -> Erasure:
        person = self.store.people[person_id]
        counts = {"identities": len(person.identities), "questions": 0}
        person.identities = []
        person.name = "(erased)"
        person.erased_at = now
        self.store.erased.add(person_id)
        for question in self.store.questions.values():
            if question.person_id == person_id:
                question.text, question.person_id = "", None
                counts["questions"] += 1
        return Erasure(counts)

    async def purge_texts(self, before: datetime) -> int:
        count = 0
        for question in self.store.questions.values():
            if question.created_at is not None and question.created_at < before and question.text:
                question.text = ""
                count += 1
        return count


class _WebAccess:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def add_link(self, link: SignInLink) -> SignInLink:
        link.id = next(self.store.ids)
        self.store.web_links[link.id] = copy.deepcopy(link)
        return link

    async def find_link(self, token_hash: str) -> SignInLink | None:
        found = [k for k in self.store.web_links.values() if k.token_hash == token_hash]
        return copy.deepcopy(found[0]) if found else None

    async def use_link(self, link_id: int, at: datetime) -> bool:
        link = self.store.web_links[link_id]
        if link.used_at is not None:
            return False
        link.used_at = at
        return True

    async def add_session(self, session: WebSession) -> WebSession:
        session.id = next(self.store.ids)
        self.store.web_sessions[session.id] = copy.deepcopy(session)
        return session

    async def find_session(self, token_hash: str) -> WebSession | None:
        found = [s for s in self.store.web_sessions.values() if s.token_hash == token_hash]
        return copy.deepcopy(found[0]) if found else None

    async def seen(self, session_id: int, at: datetime) -> None:
        self.store.web_sessions[session_id].last_seen_at = at

    async def end(self, session_id: int, at: datetime) -> None:
        session = self.store.web_sessions[session_id]
        if session.ended_at is None:
            session.ended_at = at

    async def end_all(self, person_id: int, at: datetime) -> int:
        live = [
            s
            for s in self.store.web_sessions.values()
            if s.person_id == person_id and s.ended_at is None
        ]
        for session in live:
            session.ended_at = at
        return len(live)


class FakeUnitOfWork:
    """Works on a copy of the store; ``commit()`` puts the copy back."""

    def __init__(self, store: FakeStore) -> None:
        self.shared = store

    async def __aenter__(self) -> Self:
        self.store = copy.deepcopy(self.shared)
        self.people = _People(self.store)
        self.invites = _Invites(self.store)
        self.entries = _Entries(self.store)
        self.questions = _Questions(self.store)
        self.tickets = _Tickets(self.store)
        self.outbox = _Outbox(self.store)
        self.inbound = _Inbound(self.store)
        self.menus = _Menus(self.store)
        self.embeddings = _Embeddings(self.store)
        self.schedule = _Schedule(self.store)
        self.proposals = _Proposals(self.store)
        self.connections = _Connections(self.store)
        self.audit = _Audit(self.store)
        self.personal_data = _PersonalData(self.store)
        self.web_access = _WebAccess(self.store)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def commit(self) -> None:
        self.store.commits += 1
        self.shared.__dict__.update(copy.deepcopy(self.store.__dict__))

    async def rollback(self) -> None:
        self.store = copy.deepcopy(self.shared)


class FakeEmbedder:
    """A hand-written stand-in for the embedding model: texts that name the same concept,
    in any language, get close vectors; everything else is nearly orthogonal."""

    CONCEPTS = (
        ("council", "savjet", "совет", "këshill", "conseil", "vijeće", "vijece"),
        ("young", "youth", "mladi", "mlade", "младите", "të rinjtë", "jeunes"),
        ("returnee", "povratnik", "повратници", "foreign fighters", "revenants"),
        ("weather", "vrijeme", "времето", "moti", "météo"),
    )

    model = "fake-embedder-1"
    dimensions = len(CONCEPTS) + 1

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vector(self, text: str) -> "np.ndarray":
        lowered = text.casefold()
        vector = np.array(
            [float(any(word in lowered for word in words)) for words in self.CONCEPTS] + [0.3],
            dtype=np.float32,
        )
        return vector / np.linalg.norm(vector)

    def embed_questions(self, texts: Sequence[str]) -> "np.ndarray":
        self.embedded.extend(texts)
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(
            len(texts), self.dimensions
        )

    def embed_passages(self, texts: Sequence[str]) -> "np.ndarray":
        return self.embed_questions(texts)
