"""The bad-input corpus through the console adapter on a real database: every message gets
a clear reply, none is a crash, and what is stored is clean text."""

import io
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from helpdesk.bootstrap import App, bootstrap
from helpdesk.runner import open_console
from helpdesk.services.knowledge import import_entries
from helpdesk.settings import Settings
from tests.bad_input import load_bad_input
from tests.fakes import FakeClock
from tests.integration.test_console_loop import Console
from tests.servers.postgres import scratch_database
from tests.support import ENTRIES

# Each test runs on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("engine")

CRASH = "Sorry, something went wrong on our side"


def _is_clean(stored: str) -> bool:
    return not any(
        (unicodedata.category(c) == "Cc" and c not in "\n\t") or unicodedata.category(c) == "Cf"
        for c in stored
    )


@pytest.fixture
async def app(clock: FakeClock, tmp_path: Path, engine: str) -> AsyncIterator[App]:
    settings = Settings(
        database_url=scratch_database(tmp_path),
        knowledge_dir=tmp_path / "none",
        semantic_matching=False,
        max_messages_per_minute=100_000,
    )
    running = await bootstrap(settings, clock=clock)
    await import_entries(running.uow, ENTRIES, clock)
    yield running
    await running.close()


# Officials get everything; experts and staff have other commands, so they get those.
@pytest.mark.parametrize("who", ["official", "expert", "staff"])
async def test_every_bad_message_gets_a_clear_reply(app: App, who: str) -> None:
    out = io.StringIO()
    console = Console(await open_console(app, out=out), out)
    await console.type(f"/as {who}")
    corpus = load_bad_input()
    assert len(corpus) >= 500
    if who != "official":
        corpus = [item for item in corpus if item.kind in ("command", "number")]
    silent, crashed = [], []
    for item in corpus:
        printed = await console.type(item.text)
        if not printed.strip():
            silent.append(item)
        if CRASH in printed:
            crashed.append(item)
    assert silent == [] and crashed == []
    async with app.database.engine.connect() as connection:
        stored = list((await connection.execute(text("select text from questions"))).scalars())
        stored += list((await connection.execute(text("select text from tickets"))).scalars())
    assert stored  # the odd-but-real questions were taken
    assert [s for s in stored if not _is_clean(s)] == []
    assert max(len(s) for s in stored) <= app.settings.max_message_length
