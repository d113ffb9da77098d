"""The SQLAlchemy unit of work: one session, one transaction, rolled back unless committed."""

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk.services.ports import (
    AuditLog,
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
from helpdesk.storage.tickets import SqlQuestions, SqlTickets
from helpdesk.storage.web_access import SqlWebAccess

__all__ = ["SqlUnitOfWork"]


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

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
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

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
