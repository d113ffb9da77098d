"""APScheduler in the bot's loop: it looks for due actions every few seconds.

APScheduler only keeps time here; what is due lives in the database (the
``scheduled_actions`` table), so a restart loses nothing and a second bot process on the
same database never runs an action twice (see ``helpdesk.services.lifecycle``). Nothing
platform-specific: reminders and follow-ups go out through the outbox like any reply.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from helpdesk.domain.schedule import Timings
from helpdesk.services.lifecycle import run_due
from helpdesk.services.ports import Clock, UnitOfWorkFactory
from helpdesk.services.privacy import apply_retention

__all__ = ["DueActionScheduler"]

log = logging.getLogger(__name__)


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
        if retention is not None:
            self._scheduler.add_job(
                self.purge,
                "interval",
                hours=1,
                id="retention",
                max_instances=1,
                coalesce=True,
                next_run_time=None,
            )

    def start(self) -> None:
        """Start in the running loop; the first round runs at once (what fell due while
        the bot was down is sent now)."""
        self._scheduler.start()
        for job_id in ("due-actions", "retention"):
            job = self._scheduler.get_job(job_id)
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

    async def purge(self) -> int:
        """Apply the retention period (hourly; the bot may not run at any fixed time)."""
        if self._stopped or self._retention is None:
            return 0
        try:
            return await apply_retention(self._uow, self._clock, self._retention)
        except Exception:
            log.exception("retention round failed")
            return 0

    async def tick(self) -> int:
        if self._stopped:
            return 0
        self._running = asyncio.current_task()
        try:
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
