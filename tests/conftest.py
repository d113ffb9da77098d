import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpdesk.storage.database import Database
from tests.fakes import FakeClock, FakeStore, FakeUnitOfWork
from tests.servers.postgres import ENGINES, TEMPLATE, PostgresServer, use_engine
from tests.support import Chat

PG_TEMPLATE = TEMPLATE


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
async def chat(store: FakeStore, clock: FakeClock) -> Chat:
    """The conversation service over in-memory fakes, with three entries imported."""
    chat = Chat(lambda: FakeUnitOfWork(store), clock)
    await chat.setup()
    return chat


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole run, with a migrated template database."""
    server = PostgresServer.create()
    server.start()
    try:
        server.psql(f"CREATE DATABASE {PG_TEMPLATE}")
        asyncio.run(_migrate(server.url(PG_TEMPLATE)))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test instead of migrating each copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "helpdesk.db"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "one_engine: a test that needs a database but is not about it (a platform's "
        "protocol, start-up errors) runs on the first engine only",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that use the ``engine`` fixture, themselves or through theirs, run once on each
    engine (those with ``database_url`` choose theirs already), unless marked
    ``one_engine``."""
    if "engine" in metafunc.fixturenames and "database_url" not in metafunc.fixturenames:
        one = metafunc.definition.get_closest_marker("one_engine") is not None
        metafunc.parametrize("engine", ENGINES[:1] if one else ENGINES, indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """The engine ``scratch_database()`` makes databases on during this test."""
    name: str = getattr(request, "param", ENGINES[0])
    if name == "postgresql":
        request.getfixturevalue("postgres")
        use_engine(name)
    else:
        use_engine(name, request.getfixturevalue("sqlite_template"))
    yield name
    use_engine(ENGINES[0])  # for fixtures shared by a module, set up before any test's


async def _migrate(url: str) -> None:
    database = Database.connect(url)
    try:
        await database.upgrade()
    finally:
        await database.close()
