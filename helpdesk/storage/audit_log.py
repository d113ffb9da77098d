"""The audit trail in the database: appended to, never changed."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.domain.audit import AuditAction, AuditEvent
from helpdesk.storage.tables import AuditRow

__all__ = ["SqlAuditLog"]


class SqlAuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, event: AuditEvent) -> None:
        self.session.add(
            AuditRow(
                at=event.at,
                actor=event.actor[:200],
                action=event.action.value,
                subject=event.subject[:200],
                detail=event.detail,
            )
        )
        await self.session.flush()

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
        return [
            AuditEvent(
                id=row.id,
                at=row.at,
                actor=row.actor,
                action=AuditAction(row.action),
                subject=row.subject,
                detail=row.detail,
            )
            for row in await self.session.scalars(query)
        ]
