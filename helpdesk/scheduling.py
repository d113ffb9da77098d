"""APScheduler in the bot's loop: it looks for due actions every few seconds.

APScheduler only keeps time here; what is due lives in the database (the
``scheduled_actions`` table), so a restart loses nothing and a second bot process on the
same database never runs an action twice (see ``helpdesk.services.due``). Nothing
platform-specific: reminders and follow-ups go out through the outbox like any reply.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from helpdesk.domain.schedule import Timings
from helpdesk.services.due import run_due
from helpdesk.services.ports import Clock, UnitOfWorkFactory
from helpdesk.services.privacy import apply_retention

__all__ = ["DueActionScheduler"]

log = logging.getLogger(__name__)

_PURGE_EVERY = timedelta(hours=1)


class DueActionScheduler:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        timings: Timings,
        interval: timedelta,
        on_sent: Callable[[], None] = lambda: None,
        retention: timedelta | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._timings = timings
        self._on_sent = on_sent
        self._running: asyncio.Task[Any] | None = None
        self._stopped = False
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=max(interval.total_seconds(), 0.2),
            id="due-actions",
            max_instances=1,  # a slow round is not overlapped by the next
            coalesce=True,  # rounds missed while busy (or asleep) run once, not many times
            next_run_time=None,
        )
        self._retention = retention
        self._purged_at: datetime | None = None

    def start(self) -> None:
        """Start in the running loop; the first round runs at once (what fell due while
        the bot was down is sent now)."""
        self._scheduler.start()
        job = self._scheduler.get_job("due-actions")
        if job is not None:
            job.modify(next_run_time=self._clock())

    async def shutdown(self, patience: float = 10.0) -> None:
        """Stop after the round in progress (a few milliseconds, usually). One that takes
        longer is cancelled: its transaction rolls back, so what it was doing is due
        again at the next start, never half done."""
        self._stopped = True  # a round already queued by APScheduler returns at once
        running = self._running
        if running is not None and not running.done():
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(running), timeout=patience)
        # Only now: APScheduler's shutdown cancels the rounds still running.
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def _purge(self) -> None:
        """Apply the retention period once an hour, inside a round so that shutting down
        waits for it like for any other database work."""
        now = self._clock()
        if self._retention is None or (
            self._purged_at is not None and now - self._purged_at < _PURGE_EVERY
        ):
            return
        self._purged_at = now
        try:
            await apply_retention(self._uow, self._clock, self._retention)
        except Exception:
            log.exception("retention round failed")

    async def tick(self) -> int:
        if self._stopped:
            return 0
        self._running = asyncio.current_task()
        try:
            await self._purge()
            ran = await run_due(self._uow, self._clock, self._timings)
        except Exception:
            log.exception("scheduled actions round failed")
            return 0
        finally:
            self._running = None
        if ran:
            log.info("scheduled actions: %d ran", ran)
            self._on_sent()
        return ran
