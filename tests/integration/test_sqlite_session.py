"""A unit of work on SQLite runs on the event loop's thread only what SQLite cannot make
wait: a write waiting for another connection's lock leaves the loop serving other chats,
and what runs at once is the same database, read and written, as anywhere else."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from helpdesk.storage.database import Database
from helpdesk.storage.sqlite_session import SqliteSessions

NOTES = Table("notes", MetaData(), Column("id", Integer, primary_key=True), Column("body", String))


class _Base(DeclarativeBase):
    pass


class Note(_Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str]


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database.connect(f"sqlite:///{tmp_path / 'sessions.db'}")
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        await connection.execute(text("INSERT INTO notes (body) VALUES ('first')"))
    try:
        yield database
    finally:
        await database.close()


def sent_to_writer(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every function sent to the writer thread from now on (none on a database that has
    no writer thread)."""
    sent: list[str] = []
    if not isinstance(database.sessions, SqliteSessions):
        return sent
    writer = database.sessions.writer
    submit = writer.submit

    def counted(call: Any, /, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(getattr(call, "func", call), "__name__", repr(call)))
        return submit(call, *args, **kwargs)

    monkeypatch.setattr(writer, "submit", counted)
    return sent


def _path(database: Database) -> str:
    path = database.engine.url.database
    assert path is not None
    return path


@pytest.mark.parametrize("how", ["statement", "flush", "autoflush", "commit"])
async def test_a_write_waiting_for_the_lock_leaves_the_loop_free(
    database: Database, how: str
) -> None:
    other = sqlite3.connect(_path(database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:

        async def write() -> None:
            async with database.sessions() as session:
                if how == "statement":
                    await session.execute(insert(NOTES).values(body="second"))
                else:
                    session.add(Note(body="second"))
                    if how == "flush":
                        await session.flush()
                    elif how == "autoflush":  # the ORM writes what it holds before a read
                        assert await session.scalar(select(Note.id).where(Note.id == 2)) == 2
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
        bodies = (await session.scalars(select(NOTES.c.body).order_by(NOTES.c.id))).all()
    assert bodies == ["first", "second"]


async def test_a_read_beside_another_writer_sees_what_was_committed(database: Database) -> None:
    other = sqlite3.connect(_path(database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE notes SET body = 'not yet'")
    try:
        async with database.sessions() as session:
            body = await asyncio.wait_for(session.scalar(select(NOTES.c.body)), 5)
        assert body == "first"
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_a_transaction_takes_the_lock_once_and_waits_only_if_another_holds_it(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = sent_to_writer(database, monkeypatch)

    async def writes(body: str) -> None:
        async with database.sessions() as session:
            assert await session.scalar(text("SELECT count(*) FROM notes")) >= 1
            await session.execute(insert(NOTES).values(body=body))
            await session.execute(update(NOTES).where(NOTES.c.body == body).values(body=body * 2))
            session.add(Note(body=body.upper()))
            assert await session.scalar(select(NOTES.c.body).where(NOTES.c.id == 2)) == "aa"
            await session.commit()

    await writes("a")
    assert sent == []  # the lock was free: nothing left the loop's thread
    other = sqlite3.connect(_path(database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        writing = asyncio.create_task(writes("b"))
        await asyncio.sleep(0.1)
        assert not writing.done()
    finally:
        other.execute("COMMIT")
        other.close()
    await asyncio.wait_for(writing, 10)
    assert sent == ["_begin"]  # one wait, for the first write; the rest ran at once
    # Committed for everyone: another connection reads it.
    with sqlite3.connect(_path(database)) as reader:
        rows = reader.execute("SELECT body FROM notes WHERE id > 1 ORDER BY id").fetchall()
    assert rows == [("aa",), ("A",), ("bb",), ("B",)]


def _lock_is_free(database: Database) -> bool:
    other = sqlite3.connect(_path(database), isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


async def test_the_lock_is_held_from_the_first_write_to_the_end_of_the_transaction(
    database: Database,
) -> None:
    async with database.sessions() as session:
        await session.scalar(select(NOTES.c.id))
        assert _lock_is_free(database)  # reading takes no lock
        await session.execute(insert(NOTES).values(body="dropped"))
        assert not _lock_is_free(database)
        await session.rollback()
        assert _lock_is_free(database)
        session.add(Note(body="kept"))
        assert _lock_is_free(database)  # nothing written yet
        await session.commit()
        assert _lock_is_free(database)
        await session.execute(insert(NOTES).values(body="next"))
        assert not _lock_is_free(database)  # the next transaction takes it again
        await session.commit()
    assert _lock_is_free(database)
    async with database.sessions() as session:
        bodies = (await session.scalars(select(NOTES.c.body).order_by(NOTES.c.id))).all()
    assert bodies == ["first", "kept", "next"]


async def test_a_unit_of_work_stopped_while_waiting_for_the_lock_leaves_no_lock_behind(
    database: Database,
) -> None:
    other = sqlite3.connect(_path(database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def write() -> None:
        async with database.sessions() as session:
            await session.execute(insert(NOTES).values(body="never"))
            await session.commit()

    writing = asyncio.create_task(write())
    await asyncio.sleep(0.1)
    writing.cancel()  # the bot stopping, say, while the write waits on its thread
    await asyncio.sleep(0.1)
    assert not writing.done()  # it waits for the thread to give the connection back
    other.execute("COMMIT")
    other.close()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(writing, 10)
    # The lock the thread took once the other let go was given back with the session.
    assert _lock_is_free(database)
    async with database.sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM notes")) == 1


async def test_a_failed_statement_is_the_database_error_and_the_connection_goes_on(
    database: Database,
) -> None:
    async with database.sessions() as session:
        await session.execute(insert(NOTES).values(body="x"))
        with pytest.raises(Exception, match="no such table"):
            await session.execute(text("SELECT * FROM nowhere"))
        await session.rollback()
    async with database.engine.connect() as connection:
        count = (await connection.execute(text("select count(*) from notes"))).scalar()
    assert count == 1


async def test_rows_are_read_with_their_statement(database: Database) -> None:
    # A SELECT left half-read would keep its snapshot: the transaction's next write would
    # fail at once if another connection had committed since.
    async with database.sessions() as session:
        await session.execute(insert(NOTES).values(body="second"))
        await session.commit()
    async with database.sessions() as session:
        rows = await session.execute(select(NOTES.c.body).order_by(NOTES.c.id))
        with sqlite3.connect(_path(database)) as other:
            other.execute("INSERT INTO notes (body) VALUES ('third')")
        await session.execute(insert(NOTES).values(body="fourth"))
        await session.commit()
        assert [body for (body,) in rows] == ["first", "second"]


async def test_many_units_of_work_at_once_never_wait_for_a_connection(
    database: Database,
) -> None:
    # More sessions open at once than the pool keeps: waiting for one would block the loop
    # that returns them.
    async def one(n: int) -> None:
        async with database.sessions() as session:
            await session.scalar(select(NOTES.c.id))
            await asyncio.sleep(0.05)
            await session.execute(insert(NOTES).values(body=f"n{n}"))
            await session.commit()

    await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(40))), 30)
    async with database.sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM notes")) == 41


async def test_an_in_memory_database_is_refused() -> None:
    from helpdesk.storage.database import DatabaseError

    for url in ("sqlite://", "sqlite:///:memory:"):
        with pytest.raises(DatabaseError, match="needs a file"):
            Database.connect(url)
