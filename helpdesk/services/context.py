"""What a use case runs in: one unit of work, the moment it happens, and the durations
that what it changes schedules with. The chat, the command line, the scheduler and the
web console each make one; no use case needs to know which."""

from dataclasses import dataclass, field
from datetime import datetime

from helpdesk.domain.schedule import Timings
from helpdesk.services.ports import UnitOfWork

__all__ = ["Context"]


@dataclass(frozen=True)
class Context:
    uow: UnitOfWork
    now: datetime
    timings: Timings = field(default_factory=Timings)
