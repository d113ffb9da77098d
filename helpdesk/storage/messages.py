"""Messages in and out: the outbox of replies to deliver (and whom each one mentions), the
log of inbound messages already handled, and each person's open menus."""

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, or_, select, update

from helpdesk.domain.people import ChatIdentity
from helpdesk.i18n.messages import Reply
from helpdesk.services.choices import Menu, Menus
from helpdesk.services.ports import OutboxItem
from helpdesk.storage._mapping import Mapper, Stored
from helpdesk.storage._repository import (
    Repository,
    built_once,
    dialect_of,
    insert_or,
    table_of,
)
from helpdesk.storage.session import Session
from helpdesk.storage.tables import InboundRow, MenuRow, OutboxMentionRow, OutboxRow

__all__ = ["SqlInbound", "SqlMenus", "SqlOutbox", "inbound_key"]

_REPLY = Stored("payload", load=Reply.from_json, dump=Reply.to_json)
OUTBOX_ITEM = Mapper(OutboxItem, OutboxRow, stored={"reply": _REPLY}, given=["identity"])


def _stack_from_json(data: Sequence[dict[str, Any]]) -> tuple[Menu, ...]:
    return tuple(Menu(Reply.from_json(m["reply"]), bool(m.get("confirms", False))) for m in data)


def _stack_to_json(stack: Sequence[Menu]) -> list[dict[str, Any]]:
    return [{"reply": m.reply.to_json(), "confirms": m.confirms} for m in stack]


MENUS = Mapper(
    Menus, MenuRow, stored={"stack": Stored("actions", _stack_from_json, _stack_to_json)}
)


def _outbox_item(row: OutboxRow | Row[Any]) -> OutboxItem:
    return OUTBOX_ITEM.to_domain(row, identity=ChatIdentity(row.platform, row.address))


class SqlOutbox(Repository):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.added: list[int] = []

    async def add(
        self,
        identity: ChatIdentity,
        person_id: int | None,
        language: str | None,
        reply: Reply,
        at: datetime,
    ) -> int:
        item_id = await self._insert_values(
            OutboxRow,
            {
                "platform": identity.platform,
                "address": identity.address,
                "person_id": person_id,
                "language": language,
                "payload": reply.to_json(),
                "ref": reply.ref,
                "created_at": at,
            },
        )
        mentioned = set(reply.mentions) - {person_id}
        if mentioned:
            await self.session.execute(
                insert(table_of(OutboxMentionRow)),
                [{"outbox_id": item_id, "person_id": someone} for someone in mentioned],
            )
        self.added.append(item_id)
        return item_id

    async def next_due(self, platforms: Sequence[str], now: datetime) -> OutboxItem | None:
        # The row lock is held until the unit of work ends (SQLite ignores it: one worker).
        row = await self.session.scalar(
            select(OutboxRow)
            .where(OutboxRow.delivered_at.is_(None), OutboxRow.failed_at.is_(None))
            .where(OutboxRow.platform.in_(list(platforms)))
            .where(or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now))
            .order_by(OutboxRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return _outbox_item(row) if row is not None else None

    async def take(
        self, item_ids: Sequence[int], platforms: Sequence[str], now: datetime
    ) -> list[OutboxItem]:
        rows = await self.session.execute(
            _take(), {"ids": list(item_ids), "platforms": list(platforms), "now": now}
        )
        return [_outbox_item(row) for row in rows]

    async def mark_delivered(self, item_id: int, message_id: str | None, at: datetime) -> None:
        await self.mark_all_delivered([(item_id, message_id)], at)

    async def mark_all_delivered(
        self, sent: Sequence[tuple[int, str | None]], at: datetime
    ) -> None:
        # One statement for them all (executemany), each with its own message id.
        await self.session.execute(
            _mark_delivered(),
            [{"item": item_id, "sent": message_id, "at": at} for item_id, message_id in sent],
        )

    async def mark_failed(
        self, item_id: int, error: str, retry_at: datetime, failing_since: datetime
    ) -> None:
        await self._attempted(
            item_id,
            last_error=error[:2000],
            next_attempt_at=retry_at,
            failing_since=func.coalesce(OutboxRow.failing_since, failing_since),
        )

    async def give_up(self, item_id: int, error: str, at: datetime) -> None:
        await self._attempted(
            item_id,
            last_error=error[:2000],
            failed_at=at,
            failing_since=func.coalesce(OutboxRow.failing_since, at),
        )

    async def _attempted(self, item_id: int, **outcome: Any) -> None:
        """Count one more delivery attempt of the item, and store how it went."""
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id)
            .values(attempts=OutboxRow.attempts + 1, **outcome)
        )

    async def failed(self, limit: int = 100) -> list[OutboxItem]:
        rows = await self.session.scalars(
            select(OutboxRow)
            .where(OutboxRow.failed_at.is_not(None), OutboxRow.delivered_at.is_(None))
            .order_by(OutboxRow.id.desc())
            .limit(limit)
        )
        return [_outbox_item(row) for row in rows]

    async def get(self, item_id: int) -> OutboxItem | None:
        row = await self.session.get(OutboxRow, item_id)
        return _outbox_item(row) if row is not None else None

    async def forget(self, item_id: int) -> None:
        await self.session.execute(delete(OutboxRow).where(OutboxRow.id == item_id))

    async def resend(self, item_id: int) -> bool:
        done = await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.failed_at.is_not(None))
            .where(OutboxRow.delivered_at.is_(None))
            .values(failed_at=None, failing_since=None, next_attempt_at=None, attempts=0)
        )
        return bool(getattr(done, "rowcount", 0))

    async def sent_reply(self, platform: str, message_id: str) -> Reply | None:
        payload = await self.session.scalar(
            select(OutboxRow.payload)
            .where(OutboxRow.platform == platform)
            .where(OutboxRow.message_id == message_id)
            .limit(1)
        )
        return Reply.from_json(payload) if payload is not None else None


def inbound_key(platform: str, message_id: str) -> str:
    """What the inbound log keeps of a platform message id: its hash. A Telegram private
    chat's id is the user's id, and recognising a redelivered message needs no more."""
    return hashlib.sha256(f"{platform}\x00{message_id}".encode()).hexdigest()


class SqlInbound(Repository):
    async def claim(
        self, platform: str, message_id: str, person_id: int | None, at: datetime
    ) -> bool:
        # One statement, and the unique key decides between workers: on PostgreSQL a second
        # worker's insert waits for the first one's transaction, and inserts nothing if it
        # committed (on SQLite the first insert holds the write lock until its commit).
        claimed = await self.session.scalar(
            _claim(dialect_of(self.session)),
            {
                "platform": platform,
                "message_id": inbound_key(platform, message_id),
                "person_id": person_id,
                "received_at": at,
            },
        )
        return claimed is not None


class SqlMenus(Repository):
    async def get(self, person_id: int) -> Menus:
        # Read as plain columns, not as an ORM object: ``set`` and ``stale`` write with
        # single statements that an object kept in the session would not see.
        row = (await self.session.execute(_menus(), {"person_id": person_id})).first()
        return MENUS.to_domain(row) if row is not None else Menus()

    async def set(self, person_id: int, menus: Menus, at: datetime) -> None:
        await self.session.execute(
            _set_menus(dialect_of(self.session)),
            {"person_id": person_id, **MENUS.values(menus, updated_at=at)},
        )

    async def stale(self, person_id: int) -> None:
        await self.session.execute(_stale_menus(), {"person": person_id})


# The statements of every message, built once (see ``built_once``).


@built_once
def _take() -> Any:
    table = table_of(OutboxRow)
    return (
        select(table)
        .where(table.c.id.in_(bindparam("ids", expanding=True)))
        .where(table.c.delivered_at.is_(None), table.c.failed_at.is_(None))
        .where(table.c.platform.in_(bindparam("platforms", expanding=True)))
        .where(or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= bindparam("now")))
        .order_by(table.c.id)
        .with_for_update(skip_locked=True)
    )


@built_once
def _mark_delivered() -> Any:
    table = table_of(OutboxRow)
    return (
        update(table)
        .where(table.c.id == bindparam("item"))
        .values(
            delivered_at=bindparam("at"),
            message_id=bindparam("sent"),
            attempts=table.c.attempts + 1,
        )
    )


@built_once
def _claim(dialect: str) -> Any:
    # One statement, and the unique key decides between workers: on PostgreSQL a second
    # worker's insert waits for the first one's transaction, and inserts nothing if it
    # committed (on SQLite the first insert holds the write lock until its commit).
    return (
        insert_or(dialect, InboundRow)
        .on_conflict_do_nothing(index_elements=["platform", "message_id"])
        .returning(table_of(InboundRow).c.id)
    )


@built_once
def _menus() -> Any:
    table = table_of(MenuRow)
    return select(table).where(table.c.person_id == bindparam("person_id"))


@built_once
def _set_menus(dialect: str) -> Any:
    upsert = insert_or(dialect, MenuRow)
    written = [c.name for c in table_of(MenuRow).columns if c.name != "person_id"]
    return upsert.on_conflict_do_update(
        index_elements=["person_id"], set_={name: upsert.excluded[name] for name in written}
    )


@built_once
def _stale_menus() -> Any:
    table = table_of(MenuRow)
    return (
        update(table)
        .where(table.c.person_id == bindparam("person"), table.c.live.is_(True))
        .values(live=False)
    )
