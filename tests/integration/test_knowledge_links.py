"""A link planted in a knowledge folder is never written through: ``kb publish``,
``kb retire`` and ``kb export`` on the command line, ``/publish`` and ``/retire`` in chat
replace it with the entry's file and leave what it pointed to as it was."""

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpdesk.bootstrap import App, bootstrap
from helpdesk.domain.knowledge import Entry, EntryStatus
from helpdesk.knowledge_files import dump_entry, read_knowledge
from helpdesk.runner import open_console
from helpdesk.services.knowledge import import_entries
from helpdesk.settings import Settings
from tests.fakes import FakeClock
from tests.integration.test_cli import Cli
from tests.integration.test_console_loop import Console
from tests.servers.postgres import scratch_database

DRAFT = Entry(
    id="street-lights",
    title="Who pays for street lights in the villages",
    questions=("Who pays for new street lights in the villages?",),
    body="The municipal budget: ask the finance department.",
    status=EntryStatus.DRAFT,
)
PRECIOUS = "someone else's file: it must stay as it is\n"


def plant_link(folder: Path, target: Path) -> Path:
    """``folder/<DRAFT.id>.md`` as a link to ``target``, a file outside the folder."""
    folder.mkdir(exist_ok=True)
    target.write_text(PRECIOUS)
    link = folder / f"{DRAFT.id}.md"
    link.unlink(missing_ok=True)
    link.symlink_to(target)
    return link


def assert_written_beside_not_through(link: Path, target: Path, status: EntryStatus) -> None:
    assert target.read_text() == PRECIOUS
    assert not link.is_symlink() and link.is_file()
    (entry,) = read_knowledge([link]).entries
    assert entry.id == DRAFT.id and entry.status is status


def test_the_command_line_replaces_links_instead_of_writing_through_them(
    tmp_path: Path, engine: str
) -> None:
    knowledge, target = tmp_path / "knowledge", tmp_path / "outside.txt"
    cli = Cli(tmp_path, scratch_database(tmp_path))
    cli.env["HELPDESK_KNOWLEDGE_DIR"] = str(knowledge)
    draft = tmp_path / "draft.md"
    draft.write_text(dump_entry(DRAFT), encoding="utf-8")
    cli.ok("kb", "import", str(draft))

    link = plant_link(knowledge, target)
    cli.ok("kb", "publish", DRAFT.id)
    assert_written_beside_not_through(link, target, EntryStatus.PUBLISHED)

    plant_link(knowledge, target)
    cli.ok("kb", "retire", DRAFT.id)
    assert_written_beside_not_through(link, target, EntryStatus.RETIRED)

    exported = tmp_path / "exported"
    link = plant_link(exported, target)
    assert "wrote 1 entries" in cli.ok("kb", "export", str(exported))
    assert_written_beside_not_through(link, target, EntryStatus.RETIRED)


@pytest.fixture
async def app(database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(
        database_url=database_url, knowledge_dir=tmp_path / "knowledge", semantic_matching=False
    )
    running = await bootstrap(settings, clock=clock)
    yield running
    await running.close()


async def test_chat_commands_replace_links_instead_of_writing_through_them(
    app: App, clock: FakeClock, tmp_path: Path
) -> None:
    await import_entries(app.uow, [DRAFT], clock)
    out = io.StringIO()
    console = Console(await open_console(app, out=out), out)
    await console.type("/as staff")
    knowledge, target = tmp_path / "knowledge", tmp_path / "outside.txt"

    link = plant_link(knowledge, target)
    assert "Published street-lights" in await console.type(f"/publish {DRAFT.id}")
    assert_written_beside_not_through(link, target, EntryStatus.PUBLISHED)

    plant_link(knowledge, target)
    assert "Retired street-lights" in await console.type(f"/retire {DRAFT.id}")
    assert_written_beside_not_through(link, target, EntryStatus.RETIRED)
