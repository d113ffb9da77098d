"""What the services need from storage, as protocols. ``helpdesk.storage`` implements them
with SQLAlchemy; unit tests use hand-written fakes."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Protocol, Self

from helpdesk.domain.audit import AuditAction, AuditEvent
from helpdesk.domain.curation import ConnectionRequest, EntryVersion, Proposal, ProposalStatus
from helpdesk.domain.invites import Invite
from helpdesk.domain.knowledge import Entry, EntryStatus
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.privacy import Redaction
from helpdesk.domain.questions import AskedQuestion
from helpdesk.domain.routing import ExpertLoad
from helpdesk.domain.schedule import ActionKind, ScheduledAction
from helpdesk.domain.tickets import Ticket, TicketStatus
from helpdesk.domain.web_access import SignInLink, WebSession
from helpdesk.i18n.messages import Reply
from helpdesk.matching import Matcher
from helpdesk.matching.semantic import Vectors
from helpdesk.services.choices import Menus

__all__ = [
    "Clock",
    "Conflict",
    "ConnectionRepository",
    "EmbeddingCache",
    "EntryRepository",
    "EntryWriter",
    "Erasure",
    "InboundLog",
    "InviteRepository",
    "MatcherFactory",
    "MenuRepository",
    "Outbox",
    "OutboxItem",
    "PeopleRepository",
    "ProposalRepository",
    "QuestionRepository",
    "ScheduleRepository",
    "TicketRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "Upserted",
    "WebAccessRepository",
]

Clock = Callable[[], datetime]
EntryWriter = Callable[[Entry], None]  # writes knowledge/<id>.md; None: no folder to write
# Builds a matcher from the published entries and, when an embedding model is in use,
# the vectors of their phrasings and answers (None: match lexically).
MatcherFactory = Callable[[Sequence[Entry], Mapping[str, Vectors] | None], Matcher]
Upserted = Literal["created", "updated", "unchanged"]


class PeopleRepository(Protocol):
    async def get(self, person_id: int) -> Person | None: ...
    async def by_identity(self, identity: ChatIdentity) -> Person | None: ...
    async def add(self, person: Person) -> Person: ...
    async def save(self, person: Person) -> None: ...
    async def all(self, role: Role | None = None) -> list[Person]: ...
    async def expert_loads(self) -> list[ExpertLoad]: ...
    async def touch(self, identity: ChatIdentity, at: datetime) -> None:
        """Record that the person was last seen here: replies go where they last wrote from."""
        ...

    async def reachable_at(self, person_id: int) -> ChatIdentity | None:
        """The identity the person used most recently."""
        ...

    async def remember_language(self, identity: ChatIdentity, language: str) -> None:
        """The language the person behind ``identity`` last wrote in."""
        ...


class InviteRepository(Protocol):
    async def add(self, invite: Invite) -> Invite: ...
    async def by_code_hash(self, code_hash: str) -> Invite | None: ...
    async def save(self, invite: Invite) -> None: ...
    async def get(self, invite_id: int) -> Invite | None: ...
    async def recent(self, limit: int = 100) -> list[Invite]:
        """The newest invitations first, used or not."""
        ...


class EntryRepository(Protocol):
    async def get(self, entry_id: str) -> Entry | None: ...
    async def all(self, status: EntryStatus | None = None) -> list[Entry]: ...
    async def upsert(self, entry: Entry, at: datetime, author: str = "import") -> Upserted:
        """Create or change an entry; every change keeps a version (who, when, what)."""
        ...

    async def retire_all_except(
        self, keep: set[str], at: datetime, author: str = "import"
    ) -> int: ...
    async def history(self, entry_id: str) -> list[EntryVersion]: ...
    async def revision(self) -> str:
        """Changes whenever any entry changes: the matcher is rebuilt when it does."""
        ...


class QuestionRepository(Protocol):
    async def add(self, question: AskedQuestion) -> AskedQuestion: ...
    async def get(self, question_id: int) -> AskedQuestion | None: ...
    async def save(self, question: AskedQuestion) -> None: ...
    async def count_by_action(self) -> dict[str, int]: ...
    async def since(self, at: datetime) -> list[AskedQuestion]:
        """Every question asked at ``at`` or later, oldest first (reports, statistics)."""
        ...


class TicketRepository(Protocol):
    async def add(self, ticket: Ticket) -> Ticket: ...
    async def get(self, ticket_id: int) -> Ticket | None: ...
    async def save(self, ticket: Ticket) -> None: ...
    async def find(
        self,
        *,
        official_id: int | None = None,
        assignee_id: int | None = None,
        statuses: Sequence[TicketStatus] | None = None,
        limit: int = 50,
    ) -> list[Ticket]: ...
    async def count_by_status(self) -> dict[str, int]: ...
    async def changed_since(self, at: datetime) -> list[Ticket]:
        """Tickets created or changed at ``at`` or later."""
        ...


@dataclass(frozen=True)
class OutboxItem:
    """A reply waiting to be delivered. It is written in the same transaction as whatever
    caused it, so a crash never loses it; delivery marks it done."""

    id: int
    identity: ChatIdentity
    person_id: int | None
    language: str | None
    reply: Reply
    created_at: datetime
    attempts: int = 0
    last_error: str | None = None
    failing_since: datetime | None = None  # the first failed attempt, while it keeps failing
    failed_at: datetime | None = None  # given up: kept for staff to see and resend


class Outbox(Protocol):
    added: list[int]  # the items this unit of work added: delivered at once once committed

    async def add(
        self,
        identity: ChatIdentity,
        person_id: int | None,
        language: str | None,
        reply: Reply,
        at: datetime,
    ) -> int: ...
    async def next_due(self, platforms: Sequence[str], now: datetime) -> OutboxItem | None:
        """The oldest undelivered item for these platforms that is due (not waiting after a
        failure), held for this unit of work: on PostgreSQL other workers skip it until it
        commits, and take it at once if this worker dies."""
        ...

    async def take(
        self, item_ids: Sequence[int], platforms: Sequence[str], now: datetime
    ) -> list[OutboxItem]:
        """Those of ``item_ids`` still to deliver on these platforms and due, oldest first,
        held for this unit of work as ``next_due`` holds its item (what another worker
        holds is skipped)."""
        ...

    async def mark_delivered(self, item_id: int, message_id: str | None, at: datetime) -> None: ...
    async def mark_all_delivered(
        self, sent: Sequence[tuple[int, str | None]], at: datetime
    ) -> None:
        """``mark_delivered`` for several items at once: (item, message id) pairs."""
        ...

    async def mark_failed(
        self, item_id: int, error: str, retry_at: datetime, failing_since: datetime
    ) -> None:
        """A failure worth retrying: due again at ``retry_at``. ``failing_since`` is kept
        from the first failure on."""
        ...

    async def give_up(self, item_id: int, error: str, at: datetime) -> None:
        """The final state of an item that will not be sent: kept, not retried."""
        ...

    async def failed(self, limit: int = 100) -> list[OutboxItem]:
        """Items given up on, newest first."""
        ...

    async def get(self, item_id: int) -> OutboxItem | None: ...
    async def forget(self, item_id: int) -> None:
        """Delete an item, delivered or not (an ephemeral message, once it is done)."""
        ...

    async def resend(self, item_id: int) -> bool:
        """A failed item becomes due again, its failures forgotten; False if it is not a
        failed item."""
        ...

    async def sent_reply(self, platform: str, message_id: str) -> Reply | None:
        """A delivered message, found by the platform's id: what a reply or a reaction
        to it refers to (its ``ref``, its buttons)."""
        ...


class InboundLog(Protocol):
    """Platform message ids already handled, so that a redelivered message is not answered
    twice, by this process or by another worker on the same database."""

    async def claim(
        self, platform: str, message_id: str, person_id: int | None, at: datetime
    ) -> bool:
        """Record the message as this turn's. False if it was handled already or another
        worker holds it: the caller then drops the turn (its unit of work is rolled back).
        Call it before writing anything else in the turn."""
        ...


class MenuRepository(Protocol):
    """The numbered choices offered to a person, so that "2" means the second one (see
    services/choices.py)."""

    async def get(self, person_id: int) -> Menus: ...
    async def set(self, person_id: int, menus: Menus, at: datetime) -> None: ...
    async def stale(self, person_id: int) -> None:
        """Another message was shown: numbers no longer point at the newest choices.
        One statement, without reading: most messages have no choices."""
        ...


class EmbeddingCache(Protocol):
    """Phrasing vectors by model and text hash (float32 bytes)."""

    async def get_many(self, model: str, text_hashes: Sequence[str]) -> dict[str, bytes]: ...
    async def put_many(self, model: str, vectors: dict[str, bytes]) -> None: ...


class ScheduleRepository(Protocol):
    """Actions due later (reminders, reassignment, follow-ups, digests), as rows."""

    async def add(self, action: ScheduledAction) -> ScheduledAction: ...
    async def claim_due(self, now: datetime) -> ScheduledAction | None:
        """The oldest due action, taken by this transaction and no other: it is marked
        done at once (compare and set), so a second worker or a restart never runs it
        again once this transaction commits; if it rolls back, the action is due again."""
        ...

    async def finish(self, action_id: int, outcome: str) -> None: ...
    async def postpone(self, action_id: int, due_at: datetime) -> None:
        """Not done after all: due again at ``due_at`` (a recipient's quiet hours, a failure).
        An action finished meanwhile (cancelled by an answer) stays finished."""
        ...

    async def pending(
        self,
        *,
        ticket_id: int | None = None,
        person_id: int | None = None,
        kinds: Sequence[ActionKind] | None = None,
    ) -> list[ScheduledAction]:
        """Not done yet, soonest first."""
        ...

    async def cancel(self, action_ids: Sequence[int], now: datetime, outcome: str) -> None: ...


class ProposalRepository(Protocol):
    """Real questions proposed as new phrasings of entries, for staff to decide on."""

    async def add(self, proposal: Proposal) -> Proposal: ...
    async def get(self, proposal_id: int) -> Proposal | None: ...
    async def find(
        self, *, status: ProposalStatus | None = None, entry_id: str | None = None
    ) -> list[Proposal]: ...
    async def save(self, proposal: Proposal) -> None: ...


class ConnectionRepository(Protocol):
    """Officials' requests to talk with the city whose practice answered them."""

    async def add(self, request: ConnectionRequest) -> ConnectionRequest: ...
    async def get(self, request_id: int) -> ConnectionRequest | None: ...
    async def save(self, request: ConnectionRequest) -> None: ...
    async def recent(self, limit: int = 100) -> list[ConnectionRequest]:
        """The newest requests first."""
        ...


class AuditLog(Protocol):
    """Staff actions, with who and when; written in the transaction of the change."""

    async def add(self, event: AuditEvent) -> None: ...
    async def find(
        self,
        *,
        since: datetime | None = None,
        action: AuditAction | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """Newest first."""
        ...


@dataclass(frozen=True)
class Erasure:
    """What erasing someone changed: rows of each kind, and the entries whose text named
    them (their knowledge files are to be written again)."""

    counts: dict[str, int]
    entries: tuple[str, ...] = ()


class PersonalData(Protocol):
    """Everything stored about one person, as a whole: for export, erasure and retention."""

    async def export(self, person_id: int) -> dict[str, Any] | None:
        """All rows about the person as JSON-ready data; None if there is no such person."""
        ...

    async def erase(self, person_id: int, now: datetime, redaction: Redaction) -> Erasure:
        """Blank what the person wrote, drop their addresses, keep an anonymous tombstone
        for statistics, and take them out of every text that names or quotes them
        (``redaction``, completed with what storage knows: what they wrote, the name they
        were invited under)."""
        ...

    async def purge_texts(self, before: datetime) -> int:
        """Blank question texts asked before ``before``; returns how many."""
        ...


class WebAccessRepository(Protocol):
    """Sign-in links and sessions of the web console, found by their tokens' hashes."""

    async def add_link(self, link: SignInLink) -> SignInLink: ...
    async def find_link(self, token_hash: str) -> SignInLink | None: ...
    async def use_link(self, link_id: int, at: datetime) -> bool:
        """Mark the link used, unless it was already (compare and set): a link opens one
        session even when two requests race."""
        ...

    async def add_session(self, session: WebSession) -> WebSession: ...
    async def find_session(self, token_hash: str) -> WebSession | None: ...
    async def seen(self, session_id: int, at: datetime) -> None: ...
    async def end(self, session_id: int, at: datetime) -> None: ...
    async def end_all(self, person_id: int, at: datetime) -> int:
        """End every live session of a person; how many."""
        ...


class Conflict(Exception):
    """A unit of work lost a race with another transaction on the same rows (a deadlock,
    or a row changed since it was read) and was rolled back. Running the whole unit of
    work again is safe and usually succeeds: see ``helpdesk.services.conflicts``."""


class UnitOfWork(Protocol):
    """One transaction: rolls back unless ``commit()`` was called. A race with another
    transaction comes out of the block (or of ``commit()``) as ``Conflict``."""

    people: PeopleRepository
    invites: InviteRepository
    entries: EntryRepository
    questions: QuestionRepository
    tickets: TicketRepository
    outbox: Outbox
    inbound: InboundLog
    menus: MenuRepository
    embeddings: EmbeddingCache
    schedule: ScheduleRepository
    proposals: ProposalRepository
    connections: ConnectionRepository
    audit: AuditLog
    personal_data: PersonalData
    web_access: WebAccessRepository

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
