import asyncio
from collections.abc import Iterator

import pytest

from helpdesk.storage.database import Database
from tests.fakes import FakeClock, FakeStore, FakeUnitOfWork
from tests.postgres import ENGINE, TEMPLATE, PostgresServer
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


@pytest.fixture(scope="session", autouse=True)
def _engine_of_the_run(request: pytest.FixtureRequest) -> None:
    """With HELPDESK_TEST_DATABASE=postgresql, the server runs before any test needs it."""
    if ENGINE == "postgresql":
        request.getfixturevalue("postgres")


async def _migrate(url: str) -> None:
    database = Database.connect(url)
    try:
        await database.upgrade()
    finally:
        await database.close()
