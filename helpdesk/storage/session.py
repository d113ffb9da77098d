"""What the repositories ask of a database session. SQLAlchemy's ``AsyncSession`` is one
(PostgreSQL, through asyncpg); ``sqlite_session.SqliteSession`` is the other, a
synchronous session on the event loop's thread that waits for SQLite's write lock on a
thread of its own."""

from collections.abc import Iterable
from typing import Any, Never, Protocol, Self, TypeVar, TypeVarTuple, overload

from sqlalchemy import Connection, Engine, Result, ScalarResult
from sqlalchemy.orm.identity import IdentityMap
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows

__all__ = ["Session"]

T = TypeVar("T")
E = TypeVar("E")
Ts = TypeVarTuple("Ts")


class Session(Protocol):
    @property
    def info(self) -> dict[Any, Any]: ...

    @property
    def identity_map(self) -> IdentityMap: ...

    def identity_key(self, class_: type[Any], ident: Any, /) -> Any: ...

    def get_bind(self) -> Engine | Connection: ...

    def add(self, instance: object, /) -> None: ...

    def add_all(self, instances: Iterable[object], /) -> None: ...

    # The overloads are SQLAlchemy's own, so that a typed statement gives typed rows.
    @overload
    async def execute(
        self, statement: TypedReturnsRows[*Ts], params: Any = None, /
    ) -> Result[*Ts]: ...
    @overload
    async def execute(
        self, statement: Executable, params: Any = None, /
    ) -> Result[*tuple[Any, ...]]: ...

    @overload
    async def scalar(self, statement: TypedReturnsRows[Never], params: Any = None, /) -> Any: ...
    @overload
    async def scalar(self, statement: TypedReturnsRows[T], params: Any = None, /) -> T | None: ...
    @overload
    async def scalar(self, statement: Executable, params: Any = None, /) -> Any: ...

    @overload
    async def scalars(
        self, statement: TypedReturnsRows[T], params: Any = None, /
    ) -> ScalarResult[T]: ...
    @overload
    async def scalars(self, statement: Executable, params: Any = None, /) -> ScalarResult[Any]: ...

    async def get(self, entity: type[E], ident: Any, /) -> E | None: ...

    async def flush(self) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None: ...
