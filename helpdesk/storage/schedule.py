"""Scheduled actions (reminders, reassignments, follow-ups, digests), claimed by one worker
each when they are due."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from helpdesk.domain.schedule import ActionKind, ScheduledAction
from helpdesk.storage._mapping import Mapper, enum
from helpdesk.storage._repository import Repository, built_once, bulk
from helpdesk.storage.tables import ScheduledActionRow

__all__ = ["SqlSchedule"]

ACTION = Mapper(ScheduledAction, ScheduledActionRow, stored={"kind": enum(ActionKind)})

_CLAIMED = "running"
_CLAIM_CANDIDATES = 5


class SqlSchedule(Repository):
    async def add(self, action: ScheduledAction) -> ScheduledAction:
        row = ACTION.new_row(action, created_at=action.created_at or action.due_at)
        action.id = (await self._insert(row)).id
        return action

    async def claim_due(self, now: datetime) -> ScheduledAction | None:
        # SKIP LOCKED (PostgreSQL) lets several workers take different rows without waiting
        # for each other; SQLite ignores it and serialises writers instead. Either way the
        # UPDATE below is what makes the claim exclusive.
        query = (
            select(ScheduledActionRow)
            .where(ScheduledActionRow.done_at.is_(None), ScheduledActionRow.due_at <= now)
            .order_by(ScheduledActionRow.due_at, ScheduledActionRow.id)
            .limit(_CLAIM_CANDIDATES)
            .with_for_update(skip_locked=True)
        )
        for row in list(await self.session.scalars(query)):
            claimed = await bulk(
                self.session,
                update(ScheduledActionRow)
                .where(ScheduledActionRow.id == row.id, ScheduledActionRow.done_at.is_(None))
                .values(done_at=now, outcome=_CLAIMED),
            )
            if claimed == 1:
                return ACTION.to_domain(row, done_at=None)
            # Another worker was faster with this one: try the next.
        return None

    async def finish(self, action_id: int, outcome: str) -> None:
        await bulk(
            self.session,
            update(ScheduledActionRow)
            .where(ScheduledActionRow.id == action_id)
            .values(outcome=outcome),
        )

    async def postpone(self, action_id: int, due_at: datetime) -> None:
        # Pending or claimed, never finished: an action that failed was rolled back to
        # pending, and may have been cancelled meanwhile (its ticket answered), which stays.
        await bulk(
            self.session,
            update(ScheduledActionRow)
            .where(ScheduledActionRow.id == action_id)
            .where(ScheduledActionRow.done_at.is_(None) | (ScheduledActionRow.outcome == _CLAIMED))
            .values(done_at=None, due_at=due_at, outcome=""),
        )

    async def pending(
        self,
        *,
        ticket_id: int | None = None,
        person_id: int | None = None,
        kinds: Sequence[ActionKind] | None = None,
    ) -> list[ScheduledAction]:
        given = {
            "ticket": ticket_id,
            "person": person_id,
            "kinds": [k.value for k in kinds] if kinds is not None else None,
        }
        parameters = {name: value for name, value in given.items() if value is not None}
        rows = await self.session.scalars(_pending(frozenset(parameters)), parameters)
        return [ACTION.to_domain(row) for row in rows]

    async def cancel(self, action_ids: Sequence[int], now: datetime, outcome: str) -> None:
        if not action_ids:
            return
        await bulk(
            self.session,
            update(ScheduledActionRow)
            .where(ScheduledActionRow.id.in_(list(action_ids)))
            .where(ScheduledActionRow.done_at.is_(None))
            .values(done_at=now, outcome=outcome),
        )


@built_once
def _pending(by: frozenset[str]) -> Any:
    """Actions not done, of the ticket, the person and the kinds named in ``by``."""
    query = (
        select(ScheduledActionRow)
        .where(ScheduledActionRow.done_at.is_(None))
        .order_by(ScheduledActionRow.due_at, ScheduledActionRow.id)
    )
    if "ticket" in by:
        query = query.where(ScheduledActionRow.ticket_id == bindparam("ticket"))
    if "person" in by:
        query = query.where(ScheduledActionRow.person_id == bindparam("person"))
    if "kinds" in by:
        query = query.where(ScheduledActionRow.kind.in_(bindparam("kinds", expanding=True)))
    return query
