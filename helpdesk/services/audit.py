"""Writing the audit trail: one helper, so every staff action is recorded the same way."""

from datetime import datetime

from helpdesk.domain.audit import AuditAction, AuditEvent
from helpdesk.domain.people import Person
from helpdesk.services.ports import UnitOfWork

__all__ = ["actor", "record"]


def actor(person: Person) -> str:
    """How a person acting in chat is named in the trail and in entry histories: the name
    alone is ambiguous (two Anas), the id alone unreadable."""
    return f"{person.name} (#{person.id})"


async def record(
    uow: UnitOfWork,
    now: datetime,
    who: str,
    action: AuditAction,
    subject: str,
    detail: str = "",
) -> None:
    await uow.audit.add(
        AuditEvent(at=now, actor=who, action=action, subject=subject, detail=detail)
    )
