from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpdesk.bootstrap import App, bootstrap
from helpdesk.settings import Settings
from tests.conftest import PG_TEMPLATE
from tests.fakes import FakeClock
from tests.servers.postgres import PostgresServer


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage test runs on both engines the helpdesk supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'helpdesk.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database(template=PG_TEMPLATE)


@pytest.fixture
async def app(database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[App]:
    """The real wiring on a real database, with a clock the test controls."""
    settings = Settings(database_url=database_url, knowledge_dir=tmp_path / "no-knowledge")
    app = await bootstrap(settings, clock=clock)
    yield app
    await app.close()
