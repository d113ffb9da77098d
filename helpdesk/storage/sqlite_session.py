"""SQLite for the units of work: a synchronous SQLAlchemy session, run on the event loop's
thread, that sends a transaction to a thread only to wait for SQLite's write lock.

Through SQLAlchemy's asyncio session every call is a greenlet switch and a trip through
the asyncio adapter; a trip to another thread alone costs a fraction of a millisecond of
CPU. For the few indexed statements of a message that was more than SQLite itself takes
(benchmarks/RESULTS.md). In WAL mode only one thing can wait: a transaction's first
write, for the write lock that another connection holds (up to the busy timeout). A read
never waits (it reads a snapshot); once a transaction holds the lock, its statements,
its COMMIT and any ROLLBACK run at once.

So before a call that may write, a transaction without the lock takes it with
``BEGIN IMMEDIATE``, first without waiting; only if another connection holds it does the
wait go to a thread, and the loop serves other chats meanwhile. Everything runs where it
is called, in the microseconds SQLite takes. A call may write if its statement is not a
SELECT, or if the session holds changes that it would flush first (autoflush), or if it
is a flush or a commit of such changes. Taking the lock first also gives the transaction
a fresh snapshot, so a write never fails on a snapshot older than another's commit.
"""

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Never, Self, TypeVar, TypeVarTuple, overload

from sqlalchemy import Connection, CursorResult, Engine, Result, ScalarResult, TextClause, orm
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.identity import IdentityMap
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows

__all__ = ["SqliteSession", "SqliteSessions"]

T = TypeVar("T")
E = TypeVar("E")
Ts = TypeVarTuple("Ts")

# Rows are read with their statement, as SQLAlchemy's asyncio session reads them: a SELECT
# left half-read keeps its snapshot, and a later write of the same transaction would then
# fail at once (SQLITE_BUSY_SNAPSHOT) if another connection committed meanwhile.
_BUFFERED = {"prebuffer_rows": True}

# How long a transaction waits for the write lock before failing: several coroutines and
# processes write at once (chat adapters, scheduler, commands).
BUSY_TIMEOUT_SECONDS = 30
# Writers wait for SQLite's one write lock in turn; a few threads so that a wait for
# another process's lock does not hold up every other chat's.
_WRITER_THREADS = 4
# Takes the write lock as the transaction begins (sqlite3 then begins no other).
_BEGIN = "BEGIN IMMEDIATE"


class SqliteSession:
    """A unit of work's session on SQLite: ``Session``'s calls on a synchronous SQLAlchemy
    session, with the write lock taken before the first write (see the module)."""

    def __init__(self, session: orm.Session, writer: ThreadPoolExecutor) -> None:
        self._session = session
        self._writer = writer
        self._locked = False  # this transaction holds the write lock

    @property
    def info(self) -> dict[Any, Any]:
        return self._session.info

    @property
    def identity_map(self) -> IdentityMap:
        return self._session.identity_map

    def identity_key(self, class_: type[Any], ident: Any, /) -> Any:
        return self._session.identity_key(class_, ident)

    def get_bind(self) -> Engine | Connection:
        return self._session.get_bind()

    def add(self, instance: object, /) -> None:
        self._session.add(instance)

    def add_all(self, instances: Iterable[object], /) -> None:
        self._session.add_all(instances)

    @overload
    async def execute(
        self, statement: TypedReturnsRows[*Ts], params: Any = None, /
    ) -> Result[*Ts]: ...
    @overload
    async def execute(
        self, statement: Executable, params: Any = None, /
    ) -> Result[*tuple[Any, ...]]: ...
    async def execute(
        self, statement: Executable, params: Any = None, /
    ) -> Result[*tuple[Any, ...]]:
        return await self._call(self._read_all, statement, params, writes=_writes(statement))

    @overload
    async def scalar(self, statement: TypedReturnsRows[Never], params: Any = None, /) -> Any: ...
    @overload
    async def scalar(self, statement: TypedReturnsRows[T], params: Any = None, /) -> T | None: ...
    @overload
    async def scalar(self, statement: Executable, params: Any = None, /) -> Any: ...
    async def scalar(self, statement: Executable, params: Any = None, /) -> Any:
        return await self._call(self._session.scalar, statement, params, writes=_writes(statement))

    @overload
    async def scalars(
        self, statement: TypedReturnsRows[T], params: Any = None, /
    ) -> ScalarResult[T]: ...
    @overload
    async def scalars(self, statement: Executable, params: Any = None, /) -> ScalarResult[Any]: ...
    async def scalars(self, statement: Executable, params: Any = None, /) -> ScalarResult[Any]:
        return (await self.execute(statement, params)).scalars()

    async def get(self, entity: type[E], ident: Any, /) -> E | None:
        return await self._call(self._session.get, entity, ident, writes=False)

    async def flush(self) -> None:
        await self._call(self._session.flush, writes=False)

    async def commit(self) -> None:
        try:
            await self._call(self._session.commit, writes=False)
        finally:
            self._locked = False

    async def rollback(self) -> None:
        # A rollback never waits for a lock, nor does one with nothing to undo.
        try:
            self._session.rollback()
        finally:
            self._locked = False

    async def close(self) -> None:
        try:
            self._session.close()  # rolls back what was not committed: never waits
        finally:
            self._locked = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        await self.close()

    async def _call(self, call: Callable[..., T], *args: Any, writes: bool) -> T:
        if not self._locked and (writes or self._has_changes()):
            await self._lock()
        return call(*args)

    async def _lock(self) -> None:
        """Take the write lock for this transaction: at once if it is free, else waiting
        on a writer thread (up to the busy timeout, then the database's error)."""
        connection = self._session.connection().connection.driver_connection
        assert isinstance(connection, sqlite3.Connection)
        if not connection.in_transaction:
            try:
                if not _begin_at_once(connection):
                    await _waited(
                        asyncio.get_running_loop().run_in_executor(self._writer, _begin, connection)
                    )
            except sqlite3.Error as error:
                raise DBAPIError.instance(_BEGIN, None, error, sqlite3.Error) from error
        self._locked = True

    def _read_all(self, statement: Executable, params: Any) -> Result[*tuple[Any, ...]]:
        """``statement``'s result with every row read (the ORM's by its own option, a
        plain statement's by freezing it) and its cursor closed."""
        result = self._session.execute(statement, params, execution_options=_BUFFERED)
        if isinstance(result, CursorResult) and result.returns_rows:
            return result.freeze()()
        return result

    def _has_changes(self) -> bool:
        """Whether the session would write before (autoflush) or in this call."""
        session = self._session
        return bool(session.new or session.deleted) or session.identity_map.check_modified()


class SqliteSessions:
    """Sessions on a SQLite engine, and the threads that wait for its write lock."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = orm.sessionmaker(engine, expire_on_commit=False)
        self.writer = ThreadPoolExecutor(_WRITER_THREADS, thread_name_prefix="sqlite-write")

    def __call__(self) -> SqliteSession:
        return SqliteSession(self._sessions(), self.writer)

    def close(self) -> None:
        self.writer.shutdown(wait=True)


def _begin_at_once(connection: sqlite3.Connection) -> bool:
    """``BEGIN IMMEDIATE`` if the write lock is free now; False if another holds it."""
    connection.execute("PRAGMA busy_timeout = 0")
    try:
        connection.execute(_BEGIN)
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # any kind of busy
            raise
        return False
    finally:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
    return True


async def _waited(waiting: "asyncio.Future[None]") -> None:
    """The outcome of ``waiting`` (a ``BEGIN`` on a writer thread). Cancelled meanwhile
    (the bot stopping, say), it still waits for the thread to be done, up to the busy
    timeout, before the cancellation goes on: the session then rolls back and gives its
    connection back to the pool, which must not happen while the thread uses it, nor
    leave a lock taken later on a connection nobody holds."""
    try:
        await asyncio.shield(waiting)
    except asyncio.CancelledError:
        while not waiting.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([waiting])
        if not waiting.cancelled():
            waiting.exception()  # retrieved: the cancellation is what goes on
        raise


def _begin(connection: sqlite3.Connection) -> None:
    """On a writer thread: ``BEGIN IMMEDIATE``, waiting for the lock up to the busy timeout."""
    connection.execute(_BEGIN)


def _writes(statement: Executable) -> bool:
    """Whether ``statement`` may write: anything but a SELECT."""
    if isinstance(statement, TextClause):
        return statement.text.lstrip()[:6].upper() != "SELECT"
    return not getattr(statement, "is_select", False)
