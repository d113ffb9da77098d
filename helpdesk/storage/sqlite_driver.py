"""SQLite under asyncio, with trips to the database thread only where SQLite may wait.

SQLAlchemy's aiosqlite adapter makes four trips to aiosqlite's thread for every
statement (open a cursor, execute, fetch the rows, close the cursor), each a future, a
wake-up of the event loop and a switch of greenlets: for the few indexed statements of a
message, more CPU than SQLite itself takes (benchmarks/RESULTS.md). Here a statement's
cursor is opened, executed, read and closed in one function, and the adapter keeps what
SQLAlchemy reads afterwards (rows, description, rowcount, last row id).

Most statements need no trip at all. In WAL mode only a writer waits, for the write lock
that another connection holds (up to the busy timeout): the first INSERT, UPDATE, DELETE
or REPLACE of a transaction. A SELECT outside a transaction reads a snapshot and never waits; once a
transaction has written, it holds the lock, so its later statements, its COMMIT and any
ROLLBACK run at once. Those run here, on the event loop's thread, in the few microseconds
SQLite takes, instead of costing a future and a wake-up each. A write that may wait still
goes to the thread, so that the loop keeps serving other chats meanwhile.

Everything else is SQLAlchemy's aiosqlite dialect, handed this module as its DBAPI
(``create_async_engine(..., module=dbapi())``): connections, transactions, errors and
pooling are unchanged. It reaches into aiosqlite's queue of work (``_execute``, ``_conn``)
as SQLAlchemy's own adapter does to set the isolation level.
"""

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

__all__ = ["dbapi"]

# The statements that take the write lock as they start, whatever rows they touch.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")

_Outcome = tuple[collections.deque[Any], Any, int, int | None]


def _run(connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On aiosqlite's thread: the whole statement, its cursor closed before returning."""
    cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = collections.deque(cursor.fetchall() if description else ())
        return rows, description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


async def _done() -> None:
    return None


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        # No aiosqlite cursor of its own: each statement opens and closes one on the thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        # None, as SQLAlchemy's own adapter leaves a closed cursor: nothing to close.
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass  # rows are all fetched with the statement

    async def _async_soft_close(self) -> None:
        return None  # nothing is left open on the thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._statement(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        self._statement(operation, seq_of_parameters, many=True)

    def _statement(self, operation: Any, parameters: Any, many: bool) -> None:
        connection = cast(_Connection, self._adapt_connection)
        try:
            if connection.runs_here(operation):
                outcome = _run(connection.aio, operation, parameters, many)
                # SQLAlchemy's AsyncConnection.execute insists that the driver awaited
                # something; a coroutine that is done at once costs no wake-up.
                await_(_done())
            else:
                outcome = await_(self._trip(operation, parameters, many))
        except Exception as error:
            connection._handle_exception(error)
        self._rows, self._description, self._rowcount, self._lastrowid = outcome
        connection.ran(operation)

    async def _trip(self, operation: Any, parameters: Any, many: bool) -> _Outcome:
        async with self._adapt_connection._execute_mutex:
            outcome: _Outcome = await self._connection._execute(
                _run, self._connection, operation, parameters, many
            )
        return outcome


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_wal", "_writing")
    _cursor_cls = _OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._wal: bool | None = None  # known at the first statement that could run here
        self._writing = False  # this transaction has written: it holds the write lock

    @property
    def aio(self) -> aiosqlite.Connection:
        """The aiosqlite connection this adapts (its sqlite3 one is ``_conn``)."""
        return cast(aiosqlite.Connection, self._connection)

    def runs_here(self, operation: str) -> bool:
        """Whether ``operation`` can run on the event loop's thread: SQLite cannot make it
        wait, and no trip of this connection is under way."""
        if self._execute_mutex.locked():
            return False
        if not (self._writing or operation.lstrip()[:6].upper() == "SELECT"):
            return False
        return self._in_wal_mode()

    def _in_wal_mode(self) -> bool:
        if self._wal is None:
            # Only WAL lets a reader go on beside a writer; the bot sets it at connect.
            mode = self.aio._conn.execute("PRAGMA journal_mode").fetchone()
            self._wal = bool(mode) and str(mode[0]).lower() == "wal"
        return self._wal

    def ran(self, operation: str) -> None:
        """After a statement succeeded: a write inside a transaction took the write lock
        (a SAVEPOINT opens a transaction and takes none)."""
        if not self._writing and self.aio._conn.in_transaction:
            self._writing = operation.lstrip()[:7].upper().startswith(_WRITES)

    def commit(self) -> None:
        # A transaction that wrote holds the lock its COMMIT needs in WAL mode; one that
        # did not has nothing to write.
        raw = self.aio._connection  # None once closed: SQLAlchemy's adapter skips
        if (
            raw is not None
            and not self._execute_mutex.locked()
            and (not raw.in_transaction or (self._writing and self._in_wal_mode()))
        ):
            self._end(raw.commit)
            return
        super().commit()
        self._writing = False

    def rollback(self) -> None:
        # A rollback never waits for a lock, nor does one with nothing to undo.
        raw = self.aio._connection
        if raw is not None and not self._execute_mutex.locked():
            self._end(raw.rollback)
            return
        super().rollback()
        self._writing = False

    def _end(self, how: Any) -> None:
        try:
            how()
        except Exception as error:
            self._handle_exception(error)
        self._writing = False


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        # Statements that cannot wait run on the event loop's thread, the rest on
        # aiosqlite's, one at a time (the adapter's mutex): never two threads at once.
        kw["check_same_thread"] = False
        connection = aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter does
        opened: Any = await_(connection)  # aiosqlite declares no DBAPI protocol
        return _Connection(self, opened)


def dbapi() -> Any:
    """The DBAPI module to give SQLAlchemy's aiosqlite dialect."""
    return _DBAPI(aiosqlite, sqlite3)
