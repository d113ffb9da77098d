"""Curation: phrasings proposed for entries, and requests to meet the city behind one."""

from sqlalchemy import select

from helpdesk.domain.curation import (
    ConnectionRequest,
    ConnectionStatus,
    Proposal,
    ProposalStatus,
)
from helpdesk.storage._mapping import Mapper, enum
from helpdesk.storage._repository import Repository
from helpdesk.storage.tables import ConnectionRequestRow, ProposalRow

__all__ = ["SqlConnections", "SqlProposals"]

PROPOSAL = Mapper(Proposal, ProposalRow, stored={"status": enum(ProposalStatus)})
CONNECTION = Mapper(
    ConnectionRequest, ConnectionRequestRow, stored={"status": enum(ConnectionStatus)}
)

# What a decision changes; the rest of a proposal or a request is fixed when it is made.
_DECIDED = ("status", "decided_by", "decided_at")
_ANSWERED = ("status",)


class SqlProposals(Repository):
    async def add(self, proposal: Proposal) -> Proposal:
        proposal.id = (await self._insert(PROPOSAL.new_row(proposal))).id
        return proposal

    async def get(self, proposal_id: int) -> Proposal | None:
        return await self._get(PROPOSAL, proposal_id)

    async def find(
        self, *, status: ProposalStatus | None = None, entry_id: str | None = None
    ) -> list[Proposal]:
        query = select(ProposalRow).order_by(ProposalRow.id)
        if status is not None:
            query = query.where(ProposalRow.status == status.value)
        if entry_id is not None:
            query = query.where(ProposalRow.entry_id == entry_id)
        return [PROPOSAL.to_domain(row) for row in await self.session.scalars(query)]

    async def save(self, proposal: Proposal) -> None:
        PROPOSAL.fill(await self._stored(ProposalRow, proposal.id), proposal, fields=_DECIDED)


class SqlConnections(Repository):
    async def add(self, request: ConnectionRequest) -> ConnectionRequest:
        request.id = (await self._insert(CONNECTION.new_row(request))).id
        return request

    async def get(self, request_id: int) -> ConnectionRequest | None:
        return await self._get(CONNECTION, request_id)

    async def save(self, request: ConnectionRequest) -> None:
        CONNECTION.fill(
            await self._stored(ConnectionRequestRow, request.id), request, fields=_ANSWERED
        )

    async def recent(self, limit: int = 100) -> list[ConnectionRequest]:
        query = select(ConnectionRequestRow).order_by(ConnectionRequestRow.id.desc()).limit(limit)
        return [CONNECTION.to_domain(row) for row in await self.session.scalars(query)]
