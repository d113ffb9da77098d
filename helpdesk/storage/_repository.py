"""What every repository does the same way: hold the unit of work's session, insert a
row and learn its id, find the row of an object stored before, load child rows in a few
statements, insert or update in one statement on either database."""

import functools
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute

from helpdesk.storage._mapping import Mapper
from helpdesk.storage.session import Session
from helpdesk.storage.tables import Base

__all__ = [
    "IN_LIST_LIMIT",
    "Repository",
    "built_once",
    "bulk",
    "chunks",
    "dialect_of",
    "insert_or",
    "table_of",
]

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Obj = TypeVar("Obj", bound="DataclassInstance")
Row = TypeVar("Row", bound=Base)
T = TypeVar("T")
S = TypeVar("S")
V = TypeVar("V")

# Where a unit of work's session keeps the rows its repositories hold (``_hold``).
_HELD = "held rows"

# Keep IN lists short on every backend (SQLite caps the parameters of one statement).
IN_LIST_LIMIT = 500


def chunks(items: Sequence[T], size: int = IN_LIST_LIMIT) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def bulk(session: Session, statement: Any) -> int:
    """Run a bulk UPDATE or DELETE (no ORM objects synchronised); how many rows it hit."""
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def built_once(build: Callable[..., S]) -> Callable[..., S]:
    """A statement built once (per argument, such as a dialect's name) and run with
    parameters (``bindparam``) ever after. Building a statement costs SQLAlchemy more CPU
    than SQLite takes to run it, and a statement built again each time has its cache key
    computed again too; for the few statements of every message that was most of the
    bot's CPU (benchmarks/RESULTS.md)."""
    return functools.cache(build)


def table_of(row: type[Base]) -> Table:
    """The table of a row class, for plain (Core) statements: no ORM objects to track,
    for rows a unit of work writes and does not read again."""
    return cast(Table, row.__table__)


def dialect_of(session: Session) -> str:
    """The name of the database's dialect: ``sqlite`` or ``postgresql``."""
    return session.get_bind().dialect.name


def insert_or(dialect: str, row: type[Base]) -> Any:
    """An INSERT that can say what to do on a conflict (``on_conflict_do_nothing``,
    ``on_conflict_do_update``): both databases have it, in their own dialect's form."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table_of(row))


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _hold(self, row: Row) -> Row:
        """Keep ``row`` for as long as the unit of work: the session's identity map holds
        rows weakly, so a row dropped once flushed would be read again (one more SELECT)
        when the same unit of work saves its object, as routing a ticket just opened does."""
        self.session.info.setdefault(_HELD, []).append(row)
        return row

    async def _insert(self, row: Row) -> Row:
        """Add ``row`` and flush, so that the database gives it its id."""
        self.session.add(row)
        await self.session.flush()
        return self._hold(row)

    async def _insert_values(self, row: type[Base], values: dict[str, Any]) -> int:
        """Insert ``values`` into ``row``'s table and return the new id: one INSERT …
        RETURNING, with no ORM object to track, for a row this unit of work does not read
        again."""
        new_id = await self.session.scalar(_insert_returning_id(row), values)
        assert isinstance(new_id, int)
        return new_id

    async def _get(self, mapper: Mapper[Obj, Row], key: Any) -> Obj | None:
        """The object stored under the primary key ``key``, if there is one."""
        row = await self.session.get(mapper.table, key)
        return mapper.to_domain(row) if row is not None else None

    async def _stored(self, table: type[Row], key: Any) -> Row:
        """The row of an object stored before: saving one that never was is a bug."""
        assert key is not None, f"save() is for {table.__tablename__} already added"
        row = await self.session.get(table, key)
        assert row is not None, f"no row {key!r} in {table.__tablename__}"
        return self._hold(row)

    async def _children(
        self,
        parent: InstrumentedAttribute[Any],
        parents: Collection[Any],
        order: InstrumentedAttribute[Any],
        child: Any,
        convert: Callable[[Any], V],
    ) -> dict[Any, list[V]]:
        """``child`` (a row class, or one column) of the rows whose ``parent`` column is one
        of ``parents``, in ``order``, converted and grouped by parent (every parent has a
        list, perhaps empty)."""
        found: dict[Any, list[V]] = {key: [] for key in parents}
        query = _children_of(parent, order, child)
        for some in chunks(list(found)):
            for key, value in await self.session.execute(query, {"parents": list(some)}):
                found[key].append(convert(value))
        return found


@built_once
def _children_of(
    parent: InstrumentedAttribute[Any], order: InstrumentedAttribute[Any], child: Any
) -> Any:
    return (
        select(parent, child)
        .where(parent.in_(bindparam("parents", expanding=True)))
        .order_by(parent, order)
    )


@built_once
def _insert_returning_id(row: type[Base]) -> Any:
    table = table_of(row)
    return insert(table).returning(table.c.id)
