"""The SQLite driver runs on the event loop's thread only what SQLite cannot make wait:
a write waiting for another connection's lock leaves the loop serving other chats, and
what runs at once is the same database, read and written, as through aiosqlite's thread."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text

from helpdesk.storage.database import Database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database.connect(f"sqlite:///{tmp_path / 'driver.db'}")
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        await connection.execute(text("INSERT INTO notes (body) VALUES ('first')"))
    try:
        yield database
    finally:
        await database.close()


def trips_to_sqlite(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every function sent to aiosqlite's thread from now on."""
    trips: list[str] = []
    sent = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await sent(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return trips


def _path(database: Database) -> str:
    path = database.engine.url.database
    assert path is not None
    return path


@pytest.mark.parametrize("savepoint", [False, True], ids=["write", "savepoint-then-write"])
async def test_a_write_waiting_for_the_lock_leaves_the_loop_free(
    database: Database, savepoint: bool
) -> None:
    other = sqlite3.connect(_path(database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:

        async def write() -> None:
            async with database.sessions() as session:
                if savepoint:  # opens a transaction, and takes no lock
                    await session.begin_nested()
                await session.execute(text("INSERT INTO notes (body) VALUES ('second')"))
                await session.commit()

        writing = asyncio.create_task(write())
        ticks = 0
        for _ in range(20):  # the loop turns while the write waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not writing.done()
    finally:
        other.execute("COMMIT")
        other.close()
    await asyncio.wait_for(writing, 10)
    async with database.sessions() as session:
        bodies = (await session.scalars(text("SELECT body FROM notes ORDER BY id"))).all()
    assert bodies == ["first", "second"]


async def test_a_read_beside_another_writer_sees_what_was_committed(database: Database) -> None:
    other = sqlite3.connect(_path(database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE notes SET body = 'not yet'")
    try:
        async with database.sessions() as session:
            body = await asyncio.wait_for(session.scalar(text("SELECT body FROM notes")), 5)
        assert body == "first"
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_only_the_first_write_of_a_transaction_goes_to_the_thread(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.sessions() as session:
        await session.scalar(text("SELECT count(*) FROM notes"))  # warm: the journal mode
    trips = trips_to_sqlite(monkeypatch)
    async with database.sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM notes")) == 1
        await session.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        await session.execute(text("UPDATE notes SET body = 'b' WHERE body = 'a'"))
        assert await session.scalar(text("SELECT body FROM notes WHERE id = 2")) == "b"
        await session.commit()
    assert trips == ["_run"]
    # Committed for everyone: another connection reads it.
    with sqlite3.connect(_path(database)) as other:
        assert other.execute("SELECT body FROM notes WHERE id = 2").fetchone() == ("b",)


async def test_a_rolled_back_write_leaves_nothing_and_the_next_one_waits_again(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.sessions() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('dropped')"))
        await session.rollback()
    trips = trips_to_sqlite(monkeypatch)
    async with database.sessions() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
        await session.commit()
    assert trips == ["_run"]  # a new transaction's first write goes to the thread again
    async with database.sessions() as session:
        bodies = (await session.scalars(text("SELECT body FROM notes ORDER BY id"))).all()
    assert bodies == ["first", "kept"]


async def test_a_failed_statement_is_the_database_error_and_the_connection_goes_on(
    database: Database,
) -> None:
    async with database.sessions() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('x')"))
        with pytest.raises(Exception, match="no such table"):
            await session.execute(text("SELECT * FROM nowhere"))
        await session.rollback()
    async with database.engine.connect() as connection:
        count = (await connection.execute(text("select count(*) from notes"))).scalar()
    assert count == 1
