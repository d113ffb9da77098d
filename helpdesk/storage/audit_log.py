"""The audit trail in the database: appended to, never changed."""

from datetime import datetime

from sqlalchemy import select

from helpdesk.domain.audit import AuditAction, AuditEvent
from helpdesk.storage._mapping import Mapper, clipped, enum
from helpdesk.storage._repository import Repository
from helpdesk.storage.tables import AuditRow

__all__ = ["SqlAuditLog"]

AUDIT_EVENT = Mapper(
    AuditEvent,
    AuditRow,
    stored={"action": enum(AuditAction), "actor": clipped(200), "subject": clipped(200)},
)


class SqlAuditLog(Repository):
    async def add(self, event: AuditEvent) -> None:
        await self._insert(AUDIT_EVENT.new_row(event))

    async def find(
        self,
        *,
        since: datetime | None = None,
        action: AuditAction | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
        if since is not None:
            query = query.where(AuditRow.at >= since)
        if action is not None:
            query = query.where(AuditRow.action == action.value)
        return [AUDIT_EVENT.to_domain(row) for row in await self.session.scalars(query)]
