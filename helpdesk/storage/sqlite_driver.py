"""SQLite under asyncio with one trip to the database thread per statement.

SQLAlchemy's aiosqlite adapter makes four trips to aiosqlite's thread for every
statement (open a cursor, execute, fetch the rows, close the cursor), each a future, a
wake-up of the event loop and a switch of greenlets. For the few indexed statements of a
message that costs more CPU than SQLite itself: 59 trips for 15 statements, most of the
main thread's 25 ms a message (benchmarks/RESULTS.md). Here a statement's cursor is
opened, executed, read and closed in one function run on that thread, and the adapter
keeps what SQLAlchemy reads afterwards (rows, description, rowcount, last row id).

Everything else is SQLAlchemy's aiosqlite dialect, handed this module as its DBAPI
(``create_async_engine(..., module=dbapi())``): connections, transactions, errors and
pooling are unchanged. It reaches into aiosqlite's queue of work (``_execute``, ``_conn``)
as SQLAlchemy's own adapter does to set the isolation level.
"""

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

__all__ = ["dbapi"]

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
        try:
            return await_(self._trip(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._trip(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            outcome: _Outcome = await self._connection._execute(
                _run, self._connection, operation, parameters, many
            )
        self._rows, self._description, self._rowcount, self._lastrowid = outcome


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _OneTripCursor


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        connection = aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter does
        opened: Any = await_(connection)  # aiosqlite declares no DBAPI protocol
        return _Connection(self, opened)


def dbapi() -> Any:
    """The DBAPI module to give SQLAlchemy's aiosqlite dialect."""
    return _DBAPI(aiosqlite, sqlite3)
