from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpdesk.bootstrap import App, bootstrap
from helpdesk.settings import Settings
from tests.fakes import FakeClock


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'helpdesk.db'}"


@pytest.fixture
async def app(database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[App]:
    """The real wiring on a real SQLite file, with a clock the test controls."""
    settings = Settings(database_url=database_url, knowledge_dir=tmp_path / "no-knowledge")
    app = await bootstrap(settings, clock=clock)
    yield app
    await app.close()
