"""Migrations upgrade a database that is in use: yesterday's schema with data in it becomes
today's, on SQLite and on PostgreSQL, and every row is still read right afterwards."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from helpdesk.bootstrap import bootstrap
from helpdesk.domain.people import ChatIdentity, Role
from helpdesk.domain.tickets import TicketStatus
from helpdesk.settings import Settings
from helpdesk.storage import database as database_module
from helpdesk.storage.database import Database
from helpdesk.storage.tables import Base
from tests.fakes import FakeClock
from tests.servers.postgres import PostgresServer


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


# Rows as the first release wrote them (schema 0001), in its column lists.
_FIRST_RELEASE_ROWS = [
    """insert into people (id, name, role, city, country, languages, topics, capacity,
       away_until, ui_language, timezone, created_at) values
       (1, 'Amra', 'official', 'Tuzla', 'BiH', '["bs"]', '[]', 3, null, 'bs',
        'Europe/Sarajevo', '2026-01-05 09:00:00'),
       (2, 'Vesna', 'expert', 'Sarajevo', 'BiH', '["bs","en"]', '["youth"]', 3, null, null,
        'Europe/Sarajevo', '2026-01-05 09:00:00')""",
    """insert into identities (id, person_id, platform, address, last_seen_at) values
       (1, 1, 'telegram', '1001', null), (2, 2, 'matrix', '@vesna:hub.example', null)""",
    """insert into entries (id, title, body, topics, lang, city, country, source, status,
       created_at, updated_at) values
       ('safety-council', 'Local safety councils', 'Bring the police, schools and social
        services to one table.', '["coordination"]', 'en', null, null, 'Report 1',
        'published', '2026-01-05 09:00:00', '2026-01-05 09:00:00')""",
    """insert into entry_questions (id, entry_id, position, text) values
       (1, 'safety-council', 0, 'How do I set up a local safety council?')""",
    """insert into questions (id, person_id, text, normalized, language, action, candidates,
       suggested, entry_id, feedback, ticket_id, created_at) values
       (1, 1, 'Kako da radimo s povratnicima?', 'kako da radimo s povratnicima', 'bs',
        'escalate', '[]', '[]', null, null, 1, '2026-01-06 10:00:00')""",
    """insert into tickets (id, question_id, official_id, text, language, topics, status,
       assignee_id, answer, answered_by, answered_at, rating, created_at, updated_at) values
       (1, 1, 1, 'Kako da radimo s povratnicima?', 'bs', '["returnees"]', 'assigned', 2,
        null, null, null, null, '2026-01-06 10:00:00', '2026-01-06 10:00:00')""",
    """insert into outbox (id, platform, address, person_id, language, payload, ref,
       created_at, delivered_at, message_id, attempts, last_error) values
       (1, 'telegram', '1001', 1, 'bs', '{"parts": []}', null, '2026-01-06 10:00:00',
        null, null, 0, null)""",
    """insert into inbound (id, platform, message_id, person_id, received_at) values
       (1, 'telegram', '1001:5', 1, '2026-01-06 10:00:00')""",
]


async def test_an_old_database_with_data_upgrades_to_the_current_schema(
    empty_database_url: str, tmp_path: Path
) -> None:
    old = Database.connect(empty_database_url)
    await old.upgrade("0001")
    async with old.engine.begin() as connection:
        for statement in _FIRST_RELEASE_ROWS:
            await connection.execute(text(statement))
        if connection.dialect.name == "postgresql":
            # Explicit ids leave PostgreSQL's sequences behind; a real database never is.
            for table in ("people", "identities", "questions", "tickets", "outbox", "inbound"):
                await connection.execute(
                    text(f"select setval('{table}_id_seq', (select max(id) from {table}))")
                )
    await old.close()

    app = await bootstrap(
        Settings(database_url=empty_database_url, knowledge_dir=tmp_path / "none"),
        clock=FakeClock(),
    )
    try:
        async with app.database.unit_of_work() as uow:
            amra = await uow.people.by_identity(ChatIdentity("telegram", "1001"))
            assert amra is not None and amra.name == "Amra" and amra.role is Role.OFFICIAL
            ticket = await uow.tickets.get(1)
            assert ticket is not None
            assert ticket.status is TicketStatus.ASSIGNED and ticket.assignee_id == 2
            assert ticket.score is None and ticket.follow_up is None  # columns added later
            entry = await uow.entries.get("safety-council")
            assert entry is not None and entry.translations == ()
            assert entry.questions == ("How do I set up a local safety council?",)
            question = await uow.questions.get(1)
            assert question is not None and question.ticket_id == 1
        # New rows go on after the old ones.
        async with app.database.unit_of_work() as uow:
            assert await uow.schedule.pending() == []
            # Inbound ids are kept as hashes now: a message handled before the upgrade is
            # still recognised when the platform delivers it again.
            assert not await uow.inbound.claim("telegram", "1001:5", None, FakeClock()())
        async with app.database.engine.connect() as connection:
            assert await connection.run_sync(_schema_differences) == []
    finally:
        await app.close()


def _schema_differences(connection: Connection) -> list[object]:
    """What the tables in code and the migrated database disagree on (nothing, we hope)."""
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, Base.metadata))


def test_processes_starting_together_take_turns_to_migrate(empty_database_url: str) -> None:
    """Workers (or a command beside the bot) starting at once on a new database: one
    migrates, the others wait and find the schema current."""
    env = {**os.environ, "HELPDESK_DATABASE_URL": empty_database_url}
    starting = [
        subprocess.Popen(
            [sys.executable, "-m", "helpdesk", "db", "upgrade"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for process in starting:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert "up to date" in out


def test_each_migration_is_named_after_its_revision_in_order() -> None:
    """The bot reads the newest revision from the file names instead of importing alembic
    (storage.database._head_revision); that holds only while the files follow this."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(database_module._alembic_config())
    revisions = list(reversed(list(scripts.walk_revisions())))  # oldest first
    for number, script in enumerate(revisions, start=1):
        assert script.revision == f"{number:04d}", script.path
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path
    assert database_module._head_revision() == scripts.get_current_head()


def test_a_current_database_is_checked_without_loading_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"

    async def migrate() -> tuple[str | None, str | None]:
        database = Database.connect(url)
        try:
            before = await database._revision()
            await database.upgrade()
            return before, await database._revision()
        finally:
            await database.close()

    assert asyncio.run(migrate()) == (None, database_module._head_revision())
    check = (
        "import asyncio, sys\n"
        "from helpdesk.storage.database import Database\n"
        "async def main():\n"
        f"    database = Database.connect({url!r})\n"
        "    await database.upgrade()\n"
        "    await database.close()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False", done.stderr
