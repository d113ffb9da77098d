"""Staff curation and the peer-learning loop, through the console test transport and the
`helpdesk` command, on a real database."""

import io
import json
import os
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from helpdesk.bootstrap import App, bootstrap
from helpdesk.domain.curation import ProposalStatus
from helpdesk.domain.knowledge import EntryStatus
from helpdesk.knowledge_files import read_knowledge
from helpdesk.runner import open_console
from helpdesk.services.knowledge import import_entries
from helpdesk.settings import Settings
from tests.cli import helpdesk
from tests.fakes import FakeClock
from tests.integration.test_console_loop import Console
from tests.support import ENTRIES

QUESTION = "Who decides the budget line for street lighting in rural villages of Kumanovo?"
ANSWER = "The municipal council adopts it each December; Local official, ask the finance office."


@pytest.fixture
async def app(database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[App]:
    """Lexical matching: these flows are about curation, not about the model."""
    settings = Settings(
        database_url=database_url,
        knowledge_dir=tmp_path / "knowledge",
        semantic_matching=False,
    )
    running = await bootstrap(settings, clock=clock)
    yield running
    await running.close()


@pytest.fixture
async def console(app: App, clock: FakeClock) -> Console:
    await import_entries(app.uow, ENTRIES, clock)
    out = io.StringIO()
    chat = await open_console(app, out=out)
    return Console(chat, out)


async def answered_ticket(console: Console, app: App) -> None:
    async with app.uow() as uow:
        official = next(p for p in await uow.people.all() if p.name == "Local official")
        official.city = "Kumanovo"
        await uow.people.save(official)
        await uow.commit()
    assert "ticket #1" in await console.type(QUESTION)
    await console.type("/as expert")
    await console.type(f"/answer 1 {ANSWER}")


async def test_promote_publish_and_the_next_official_is_answered_from_the_base(
    console: Console, app: App, clock: FakeClock
) -> None:
    await answered_ticket(console, app)
    await console.type("/as staff")
    printed = await console.type("/promote 1")
    assert "Draft entry ticket-1-" in printed
    async with app.uow() as uow:
        [draft] = await uow.entries.all(EntryStatus.DRAFT)
    # The official is not named in a shared entry; the expert is credited.
    assert "Kumanovo" not in draft.title + draft.body + draft.questions[0]
    assert "Local official" not in draft.body
    assert "*Answered by Local expert" in draft.body
    assert "#1" in (draft.source or "")

    # A draft answers nobody yet.
    await console.type("/as official")
    assert "ticket #2" in await console.type(QUESTION)

    await console.type("/as staff")
    printed = await console.type(f"/publish {draft.id}")
    assert f"Published {draft.id}" in printed
    written = read_knowledge([app.settings.knowledge_dir / f"{draft.id}.md"])
    assert written.ok and written.entries[0].status is EntryStatus.PUBLISHED

    await console.type("/as official")
    printed = await console.type(QUESTION)
    assert "ask the finance office" in printed and "ticket #3" not in printed

    clock.advance(minutes=5)
    assert "not available to you" in await console.type(f"/retire {draft.id}")
    await console.type("/as staff")
    assert f"Retired {draft.id}" in await console.type(f"/retire {draft.id}")
    async with app.uow() as uow:
        history = await uow.entries.history(draft.id)
    assert [v.change for v in history] == [
        "created (draft)",
        "status draft → published",
        "status published → retired",
    ]
    assert history[0].author.startswith("Local staff (#")


async def test_a_picked_suggestion_is_proposed_and_staff_decide(console: Console, app: App) -> None:
    printed = await console.type("young council")
    assert "Which one fits best?" in printed
    number = next(
        line.split(")")[0].strip() for line in printed.splitlines() if "Engaging young" in line
    )
    assert "Work through youth-led groups" in await console.type(number)
    await console.type("young council")  # the same words again: proposed once
    async with app.uow() as uow:
        [proposal] = await uow.proposals.find(status=ProposalStatus.PENDING)
    assert proposal.entry_id == "youth-engagement" and proposal.text == "young council"

    await console.type("/as staff")
    printed = await console.type("/proposals")
    assert f"#{proposal.id} for youth-engagement: young council" in printed
    printed = await console.type(f"/accept {proposal.id}")
    assert "is now a phrasing of youth-engagement" in printed
    async with app.uow() as uow:
        entry = await uow.entries.get("youth-engagement")
    assert entry is not None and entry.questions[-1] == "young council"
    assert "No proposed phrasings" in await console.type("/proposals")

    # Now the same words find the entry at once.
    await console.type("/as official")
    assert "Work through youth-led groups" in await console.type("young council")


@pytest.mark.parametrize(
    "command",
    [
        "/promote 1",
        "/publish x",
        "/retire x",
        "/phrase x y",
        "/proposals",
        "/accept 1",
        "/stats",
        "/introduce 1 x",
    ],
)
async def test_staff_commands_are_refused_to_others(console: Console, command: str) -> None:
    for role in ("official", "expert"):
        await console.type(f"/as {role}")
        printed = await console.type(command)
        assert "is not available to you" in printed, printed


async def test_stats_in_chat(console: Console, app: App) -> None:
    await console.type("How do we set up a local safety council?")
    await console.type(QUESTION)
    await console.type("/as staff")
    printed = await console.type("/stats")
    assert "2 questions; answered from the base 50%" in printed
    assert "passed to experts 50%" in printed
    assert "By language: en 2" in printed


def cli(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return helpdesk(
        args,
        cwd=tmp_path,
        env={
            **os.environ,
            "HELPDESK_DATABASE_URL": database_url,
            "HELPDESK_KNOWLEDGE_DIR": str(tmp_path / "knowledge"),
            "HELPDESK_SEMANTIC_MATCHING": "false",
        },
    )


async def test_the_cli_promotes_publishes_shows_history_and_restores(
    console: Console, app: App, tmp_path: Path, database_url: str
) -> None:
    await answered_ticket(console, app)
    await app.close()
    done = cli(tmp_path, database_url, "kb", "promote", "1")
    assert done.returncode == 0, done.stderr
    entry_id = done.stdout.split("Draft entry ")[1].split(" ")[0]
    assert cli(tmp_path, database_url, "kb", "promote", "1").returncode != 0  # once
    assert "not valid" not in cli(tmp_path, database_url, "kb", "show", entry_id).stdout
    assert cli(tmp_path, database_url, "kb", "publish", entry_id).returncode == 0
    assert (tmp_path / "knowledge" / f"{entry_id}.md").exists()
    assert cli(tmp_path, database_url, "kb", "retire", entry_id).returncode == 0
    history = cli(tmp_path, database_url, "kb", "history", entry_id).stdout.splitlines()
    assert [line.split()[0] for line in history] == ["v1", "v2", "v3"]
    assert "status published → retired" in history[2]
    assert cli(tmp_path, database_url, "kb", "restore", entry_id, "2").returncode == 0
    listed = [
        json.loads(x)
        for x in cli(tmp_path, database_url, "kb", "list", "--json").stdout.splitlines()
    ]
    assert {e["id"]: e["status"] for e in listed}[entry_id] == "published"
    assert "(restored v2)" in cli(tmp_path, database_url, "kb", "history", entry_id).stdout
    missing = cli(tmp_path, database_url, "kb", "publish", "no-such-entry")
    assert missing.returncode != 0 and "There is no entry no-such-entry" in missing.stderr


def test_proposals_from_the_cli(tmp_path: Path, database_url: str) -> None:
    assert cli(tmp_path, database_url, "kb", "proposals").stderr.strip() == "0 pending"
    rejected = cli(tmp_path, database_url, "kb", "proposals", "--accept", "7")
    assert rejected.returncode != 0 and "no pending proposal #7" in rejected.stderr


def test_stats_csv_report_png_and_gaps_on_an_empty_base(tmp_path: Path, database_url: str) -> None:
    done = cli(tmp_path, database_url, "stats", "--csv")
    assert done.returncode == 0 and done.stdout.startswith("week,questions,answered")
    png = cli(tmp_path, database_url, "report", "--png", str(tmp_path / "chart.png"))
    assert png.returncode != 0 and "nothing to draw" in png.stderr
    assert cli(tmp_path, database_url, "report", "gaps").stderr.strip() == "0 gaps"
    _ = timedelta


async def test_peer_exchange_shares_contacts_only_when_both_sides_agree(
    console: Console, app: App
) -> None:
    printed = await console.type("How do we set up a local safety council?")
    assert "4) Connect me with Danilovgrad" in printed
    printed = await console.type("4")
    assert "connect you with Danilovgrad" in printed and "only when Danilovgrad agrees" in printed
    printed = await console.type("/as staff")
    request = int(printed.split("Connection request #")[1].split(":")[0])
    assert "would like to talk with Danilovgrad" in printed
    assert "Local official" not in printed  # not before the other city agrees
    printed = await console.type(f"/introduce {request} Mayor's office, +382 20 000 000")
    assert "For Danilovgrad: Local official" in printed
    printed = await console.type("/as official")
    assert "Danilovgrad agreed to talk with you" in printed and "+382 20 000 000" in printed
    await console.type("/as staff")
    printed = await console.type(f"/introduce {request} again")
    assert f"no open connection request #{request}" in printed


async def test_restoring_a_draft_version_says_so_and_the_file_agrees(
    console: Console, app: App, tmp_path: Path, database_url: str
) -> None:
    await answered_ticket(console, app)
    await app.close()
    done = cli(tmp_path, database_url, "kb", "promote", "1")
    entry_id = done.stdout.split("Draft entry ")[1].split(" ")[0]
    assert cli(tmp_path, database_url, "kb", "publish", entry_id).returncode == 0
    restored = cli(tmp_path, database_url, "kb", "restore", entry_id, "1")
    assert restored.returncode == 0 and "it is draft" in restored.stdout
    written = read_knowledge([tmp_path / "knowledge" / f"{entry_id}.md"])
    assert [e.status for e in written.entries] == [EntryStatus.DRAFT]
    kept = cli(tmp_path, database_url, "kb", "restore", entry_id, "1", "--status", "published")
    assert kept.returncode == 0 and "it is published" in kept.stdout
    written = read_knowledge([tmp_path / "knowledge" / f"{entry_id}.md"])
    assert [e.status for e in written.entries] == [EntryStatus.PUBLISHED]


async def test_a_ticket_is_never_assigned_to_the_official_who_asked_it(
    console: Console, app: App, tmp_path: Path, database_url: str
) -> None:
    assert "ticket #1" in await console.type(QUESTION)
    async with app.uow() as uow:
        official = next(p for p in await uow.people.all() if p.name == "Local official")
    await app.close()
    assert cli(tmp_path, database_url, "person", "role", str(official.id), "expert").returncode == 0
    refused = cli(tmp_path, database_url, "ticket", "assign", "1", str(official.id))
    assert refused.returncode != 0 and "asked this question" in refused.stderr
