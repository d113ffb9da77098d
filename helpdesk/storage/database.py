"""Connecting to the database named by ``HELPDESK_DATABASE_URL`` and keeping its schema current."""

import asyncio
import contextlib
import fcntl
import sqlite3
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)

from helpdesk.services.metrics import count_statement, count_transaction
from helpdesk.storage.session import Session
from helpdesk.storage.sqlite_session import BUSY_TIMEOUT_SECONDS, SqliteSessions
from helpdesk.storage.unit_of_work import SqlUnitOfWork

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["Database", "DatabaseError", "async_url", "backup_sqlite"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_VERSIONS = _MIGRATIONS / "versions"

# URLs as people write them, with any driver SQLAlchemy knows for these databases, mapped
# to the asyncio drivers we ship: the synchronous ones would refuse to run under asyncio.
_SQLITE = "sqlite+aiosqlite"
_POSTGRESQL = "postgresql+asyncpg"
_ASYNC_DRIVERS = {
    "sqlite": _SQLITE,
    "sqlite+pysqlite": _SQLITE,
    "sqlite+aiosqlite": _SQLITE,
    **{
        f"{scheme}{driver}": _POSTGRESQL
        for scheme in ("postgresql", "postgres")
        for driver in ("", "+asyncpg", "+psycopg2", "+psycopg2cffi", "+psycopg", "+pg8000")
    },
}
_URL_FORMS = "write sqlite:///path/to/helpdesk.db or postgresql://user:password@host:5432/database"
# libpq's sslmode values, which asyncpg takes as its ``ssl`` argument.
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# Connections kept open for units of work on SQLite (more are opened when needed).
_SQLITE_POOL = 16
# Query parameters passed on to asyncpg as they are.
_POSTGRESQL_PARAMETERS = ("ssl", "host", "target_session_attrs")


class DatabaseError(Exception):
    """The database URL is wrong or the database cannot be reached. The message never
    holds the URL: it may carry a password."""


def async_url(url: str) -> URL:
    """``sqlite:///x.db`` → ``sqlite+aiosqlite:///x.db``, ``postgresql://…`` and its
    synchronous drivers → ``postgresql+asyncpg://…``, with libpq's ``sslmode`` as asyncpg's
    ``ssl``. Anything else is refused with a one-line reason that never repeats the URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"not a database URL ({_URL_FORMS})") from None
    except ValueError:
        # SQLAlchemy parses the port with int(): the only ValueError it lets through.
        raise DatabaseError("the port in the URL is not a number") from None
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        backend = parsed.drivername.split("+", 1)[0]
        if backend in ("sqlite", "postgresql", "postgres"):
            raise DatabaseError(
                f"the driver {parsed.drivername!r} is not one the helpdesk has; "
                f"write {backend}://… and it uses its own"
            )
        raise DatabaseError(f"unsupported database: {backend!r} (use sqlite or postgresql)")
    parsed = parsed.set(drivername=driver)
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise DatabaseError("the port in the URL must be a number from 1 to 65535")
    if driver == _SQLITE:
        if parsed.query:
            raise DatabaseError(
                f"SQLite URLs take no parameters (found {', '.join(sorted(parsed.query))})"
            )
        return parsed
    return parsed.set(query=_postgresql_query(parsed.query))


def _postgresql_query(query: Mapping[str, str | tuple[str, ...]]) -> dict[str, Any]:
    """The URL's parameters as asyncpg takes them; connect() would fail on any other."""
    passed: dict[str, Any] = {}
    for name, value in query.items():
        if name == "sslmode":
            name = "ssl"
        if name not in _POSTGRESQL_PARAMETERS:
            hint = (
                " (set PGSSLROOTCERT, PGSSLCERT or PGSSLKEY in the environment instead)"
                if name.startswith("ssl")
                else f" (it takes sslmode, {', '.join(_POSTGRESQL_PARAMETERS)})"
            )
            raise DatabaseError(f"the URL parameter {name!r} is not supported{hint}")
        if name in passed or (isinstance(value, tuple) and name != "host"):
            raise DatabaseError(f"the URL parameter {name!r} is given twice")
        if name == "ssl" and value not in _SSL_MODES:
            raise DatabaseError(f"sslmode must be one of {', '.join(_SSL_MODES)}")
        passed[name] = value
    return passed


@dataclass
class Database:
    """The database: ``engine`` (asyncio) for migrations, locks across processes and the
    health check; ``sessions`` for units of work, whose statements go through
    ``work_engine`` (listen to its events to see them). On PostgreSQL both are asyncpg's;
    on SQLite units of work run on a synchronous engine (``sqlite_session``)."""

    engine: AsyncEngine
    sessions: Callable[[], Session]
    work_engine: Engine

    @classmethod
    def connect(cls, url: str) -> "Database":
        """Build the engines; nothing is opened until first use."""
        target = async_url(url)
        if target.get_backend_name() == "sqlite":
            return cls._sqlite(target)
        try:
            engine = create_async_engine(target)
        except ImportError as error:
            raise DatabaseError(
                f"the {target.get_driver_name()} driver is not installed ({error.name})"
            ) from None
        except ArgumentError as error:
            # SQLAlchemy's own words for a URL it cannot use; they quote no password.
            raise DatabaseError(f"cannot use this URL: {_first_line(error)}") from None
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        return cls(engine, sessions, _counted(engine.sync_engine))

    @classmethod
    def _sqlite(cls, target: URL) -> "Database":
        if target.database in (None, "", ":memory:"):
            # Each connection would have a database of its own, lost at exit.
            raise DatabaseError(f"SQLite needs a file for the helpdesk ({_URL_FORMS})")
        _check_sqlite_folder(target)
        # Wait for the write lock instead of failing at once.
        engine = create_async_engine(target, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        work_engine = create_engine(
            target.set(drivername="sqlite"),
            # A transaction waiting for the write lock waits on a writer thread.
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            # Never wait for a connection: the wait would block the event loop, which
            # is what returns them.
            pool_size=_SQLITE_POOL,
            max_overflow=-1,
        )
        event.listen(work_engine, "connect", _sqlite_pragmas)
        return cls(engine, SqliteSessions(work_engine), _counted(work_engine))

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions)

    async def upgrade(self, revision: str = "head") -> None:
        """Apply the migrations that have not run yet (a no-op when the schema is current).

        ``revision`` stops at an older schema: tests use it to build yesterday's database.
        Processes starting together (several workers, a command beside the bot) take turns:
        the first migrates, the others find the schema current."""
        try:
            if revision == "head" and await self._revision() == _head_revision():
                return  # the usual case, decided without importing alembic
            async with self.exclusively("migrate") as connection:
                await connection.run_sync(_upgrade, revision)
        except OSError as error:
            raise DatabaseError(f"cannot reach the database: {error}") from error
        except Exception as error:
            if _is_connection_error(error):
                raise DatabaseError(f"cannot open the database: {_first_line(error)}") from error
            raise

    @contextlib.asynccontextmanager
    async def exclusively(self, step: str) -> AsyncIterator[AsyncConnection]:
        """One process at a time runs ``step`` (a short name), across every process on this
        database: for what workers starting together must not each do. On PostgreSQL an
        advisory lock, held until the yielded connection's transaction ends; SQLite has
        none, so a lock file beside the database."""
        with _sqlite_lock(self.engine.url, step):
            async with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    key = zlib.crc32(f"helpdesk:{step}".encode())
                    await connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": key}
                    )
                yield connection

    async def _revision(self) -> str | None:
        """The revision the database is stamped with; None before the first migration."""
        async with self.engine.connect() as connection:
            return await connection.run_sync(_stamped_revision)

    async def ping(self) -> bool:
        """True if the database answers a trivial query (for the health endpoint)."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("select 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        if isinstance(self.sessions, SqliteSessions):
            self.sessions.close()
            self.work_engine.dispose()
        await self.engine.dispose()


@contextlib.contextmanager
def _sqlite_lock(url: URL, step: str) -> Iterator[None]:
    """An exclusive lock on a file beside a SQLite database (its DDL does not wait for
    another process's DDL, and a check-then-insert is not atomic across processes)."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.{step}-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def backup_sqlite(database_url: str, target: Path) -> Path:
    """Copy a SQLite database while the bot runs; returns the file copied. The backup API
    copies a consistent snapshot page by page, writers carrying on (PostgreSQL has
    pg_dump for this)."""
    url = async_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise DatabaseError("db backup copies SQLite databases; for PostgreSQL use pg_dump -Fc")
    source = Path(url.database)
    if not source.is_file():
        raise DatabaseError(f"there is no database at {source}")
    if target.exists() or target.is_symlink():
        raise DatabaseError(f"{target} exists already; choose a new file")
    if not target.parent.is_dir():
        raise DatabaseError(f"cannot write {target}: the folder {target.parent} does not exist")
    try:
        live = sqlite3.connect(source)
        try:
            copy = sqlite3.connect(target)
            try:
                live.backup(copy)
            finally:
                copy.close()
        finally:
            live.close()
    except sqlite3.Error as error:
        with contextlib.suppress(OSError):
            target.unlink()  # half a backup is worse than none: it looks like one
        raise DatabaseError(f"cannot back up to {target}: {error}") from None
    return source


def _check_sqlite_folder(url: URL) -> None:
    """A clear error before connecting: SQLite cannot create a file in a missing folder."""
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise DatabaseError(f"cannot create {database}: the folder {folder} does not exist")


def _counted(engine: Engine) -> Engine:
    """``engine``, its statements and transactions counted for /metrics."""
    event.listen(engine, "before_cursor_execute", lambda *_: count_statement())
    event.listen(engine, "begin", lambda _: count_transaction())
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _head_revision() -> str:
    """The newest migration's revision, read from the file names: each migration is named
    after its revision, numbered in order (tests/integration/test_migrations.py holds
    that). Asking alembic instead costs a third of a second at every start of the bot and
    of every command, and the schema is almost always current."""
    return max(path.name.split("_", 1)[0] for path in _VERSIONS.glob("[0-9]*_*.py"))


def _stamped_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    stamped = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if stamped is None else str(stamped)


def _alembic_config(connection: Connection | None = None) -> "Config":
    # Imported here, not at the top: only a database that needs migrating pays for alembic.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = _alembic_config(connection)
    if revision == "head":
        revision = ScriptDirectory.from_config(config).get_current_head() or revision
    if MigrationContext.configure(connection).get_current_revision() == revision:
        return
    command.upgrade(config, revision)


def _is_connection_error(error: Exception) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(error, OperationalError | InterfaceError | asyncio.TimeoutError)


def _first_line(error: Exception) -> str:
    return str(getattr(error, "orig", None) or error).splitlines()[0]
