"""Row ↔ domain mapping, declared once per type.

A domain object is a dataclass and its table a declarative class; most fields are stored
as they are, in the column of the same name. A `Mapper` is told only the exceptions: the
fields stored in another form or column (`Stored`), and those that live elsewhere (another
table, several columns) and are handed to `Mapper.to_domain` by the repository. Every query
of a type goes through its mapper, so a new field is written in one place, and a field
with neither a column nor a rule is an error when the mapper is built, not a silent loss.

`Mapper.values` gives plain column values, so that a repository can put them in an
INSERT … ON CONFLICT or a bulk statement as well as on a row object.
"""

import dataclasses
from collections.abc import Callable, Collection, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import Row as SqlRow

from helpdesk.storage.tables import Base

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["AS_LIST", "Mapper", "Stored", "clipped", "enum", "optional_enum"]

Obj = TypeVar("Obj", bound="DataclassInstance")
Row = TypeVar("Row", bound=Base)
E = TypeVar("E", bound=Enum)


def _unchanged(value: Any) -> Any:
    return value


@dataclasses.dataclass(frozen=True)
class Stored:
    """How one field is stored: in ``column`` (by default the field's own name) as
    ``dump(value)``, read back as ``load(stored)``."""

    column: str | None = None
    load: Callable[[Any], Any] = _unchanged
    dump: Callable[[Any], Any] = _unchanged


def enum(kind: type[E]) -> Stored:
    """An enum stored as its value."""
    return Stored(load=kind, dump=lambda member: member.value)


def optional_enum(kind: type[E]) -> Stored:
    """An enum or None, stored as its value or NULL."""
    return Stored(
        load=lambda value: kind(value) if value else None,
        dump=lambda member: member.value if member is not None else None,
    )


def clipped(length: int) -> Stored:
    """Text cut to the column's length on the way in."""
    return Stored(dump=lambda text: text[:length])


# A tuple of plain values in the domain, a JSON list in the row.
AS_LIST = Stored(load=tuple, dump=list)


class Mapper(Generic[Obj, Row]):
    """One domain type stored in one table.

    ``stored`` names the fields kept in another form or column; ``given`` the fields the
    row does not hold, which `to_domain` must be given; ``read_only`` the fields read but
    never written (``id`` always is: the database or the caller sets it)."""

    def __init__(
        self,
        domain: type[Obj],
        table: type[Row],
        *,
        stored: Mapping[str, Stored] | None = None,
        given: Collection[str] = (),
        read_only: Collection[str] = (),
    ) -> None:
        stored = stored or {}
        names = [f.name for f in dataclasses.fields(domain)]
        unknown = (set(stored) | set(given) | set(read_only)) - set(names)
        if unknown:
            raise TypeError(f"{domain.__name__} has no field {', '.join(sorted(unknown))}")
        columns = set(table.__table__.columns.keys())
        self._make: Callable[..., Obj] = domain
        self.table = table
        self._given = frozenset(given)
        self._fields: dict[str, tuple[str, Stored]] = {}
        for name in names:
            if name in self._given:
                continue
            how = stored.get(name, Stored())
            column = how.column or name
            if column not in columns:
                raise TypeError(
                    f"{domain.__name__}.{name}: no column {column!r} in {table.__name__}"
                )
            self._fields[name] = (column, how)
        self._written = tuple(n for n in self._fields if n != "id" and n not in read_only)

    def to_domain(self, row: Row | SqlRow[Any], **fields: Any) -> Obj:
        """The domain object stored in ``row`` (an ORM row, or a plain one of the table's
        columns); ``fields`` gives those the row does not hold, or replaces what it holds."""
        missing = self._given - fields.keys()
        if missing:
            raise TypeError(f"to_domain needs {', '.join(sorted(missing))}")
        values = {
            name: how.load(getattr(row, column)) for name, (column, how) in self._fields.items()
        }
        return self._make(**(values | fields))

    def values(
        self, obj: Obj, *, fields: Collection[str] | None = None, **columns: Any
    ) -> dict[str, Any]:
        """The column values that store ``obj`` (only those of ``fields``, when given),
        with ``columns`` added for what the domain type does not hold."""
        values = {}
        for name in self._written if fields is None else fields:
            column, how = self._fields[name]
            values[column] = how.dump(getattr(obj, name))
        return values | columns

    def new_row(self, obj: Obj, **columns: Any) -> Row:
        """A new row for ``obj``, not yet added to a session."""
        return self.table(**self.values(obj, **columns))

    def fill(
        self, row: Row, obj: Obj, *, fields: Collection[str] | None = None, **columns: Any
    ) -> None:
        """Write ``obj`` (only ``fields``, when given) and ``columns`` onto ``row``."""
        for column, value in self.values(obj, fields=fields, **columns).items():
            setattr(row, column, value)
