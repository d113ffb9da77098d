"""The SQLAlchemy unit of work: one session, one transaction, rolled back unless committed."""

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from helpdesk.services.ports import (
    AuditLog,
    Conflict,
    ConnectionRepository,
    EmbeddingCache,
    EntryRepository,
    InboundLog,
    InviteRepository,
    MenuRepository,
    Outbox,
    PeopleRepository,
    PersonalData,
    ProposalRepository,
    QuestionRepository,
    ScheduleRepository,
    TicketRepository,
    WebAccessRepository,
)
from helpdesk.storage.audit_log import SqlAuditLog
from helpdesk.storage.curation import SqlConnections, SqlProposals
from helpdesk.storage.knowledge import SqlEmbeddings, SqlEntries
from helpdesk.storage.messages import SqlInbound, SqlMenus, SqlOutbox
from helpdesk.storage.people import SqlInvites, SqlPeople
from helpdesk.storage.privacy import SqlPersonalData
from helpdesk.storage.schedule import SqlSchedule
from helpdesk.storage.session import Session
from helpdesk.storage.tickets import SqlQuestions, SqlTickets
from helpdesk.storage.web_access import SqlWebAccess

__all__ = ["SqlUnitOfWork"]

# PostgreSQL's codes for a transaction that lost a race: deadlock_detected and
# serialization_failure. SQLite has one writer at a time and raises neither.
_LOST_RACE = {"40P01", "40001"}


def _lost_race(error: BaseException | None) -> bool:
    if isinstance(error, StaleDataError):  # a versioned row changed since it was read
        return True
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in _LOST_RACE


class SqlUnitOfWork:
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

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self.people = SqlPeople(self.session)
        self.invites = SqlInvites(self.session)
        self.entries = SqlEntries(self.session)
        self.questions = SqlQuestions(self.session)
        self.tickets = SqlTickets(self.session)
        self.outbox = SqlOutbox(self.session)
        self.inbound = SqlInbound(self.session)
        self.menus = SqlMenus(self.session)
        self.embeddings = SqlEmbeddings(self.session)
        self.schedule = SqlSchedule(self.session)
        self.proposals = SqlProposals(self.session)
        self.connections = SqlConnections(self.session)
        self.audit = SqlAuditLog(self.session)
        self.personal_data = SqlPersonalData(self.session)
        self.web_access = SqlWebAccess(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()  # a no-op after commit()
        finally:
            await self.session.close()
        if _lost_race(exc):
            raise Conflict(type(exc).__name__) from exc

    async def commit(self) -> None:
        try:
            await self.session.commit()
        except (DBAPIError, StaleDataError) as error:
            if _lost_race(error):
                raise Conflict(type(error).__name__) from error
            raise

    async def rollback(self) -> None:
        await self.session.rollback()
