"""Arguments of the ``helpdesk`` command are bounded by what the database and the
knowledge files hold: a number or a text beyond that is one ``Error:`` line and a
non-zero exit, never a traceback and never stored."""

import asyncio
import json
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from helpdesk.domain.knowledge import Entry
from helpdesk.domain.limits import MAX_NAME_LENGTH, MAX_PHRASINGS, MAX_PLACE_LENGTH
from helpdesk.knowledge_files import dump_entry
from tests.integration.test_cli import Cli, first_row
from tests.servers.postgres import scratch_database

BEYOND_64_BITS = str(2**63)  # what a reviewer typed: an OverflowError in the driver
BEYOND_32_BITS = str(2**31)  # ids are 32-bit integers on PostgreSQL
ENTRY = Entry(
    id="lsc-setup",
    title="Setting up a Local Safety Council",
    questions=("How do we set up a local safety council?",),
    body="Map threats first.",
)


@pytest.fixture
def cli(tmp_path: Path, engine: str) -> Cli:
    cli = Cli(tmp_path, scratch_database(tmp_path))
    cli.env["HELPDESK_KNOWLEDGE_DIR"] = str(tmp_path / "knowledge")
    return cli


def assert_one_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, done.stderr
    for word in words:
        assert word in errors[0], errors[0]


@pytest.mark.parametrize(
    "args",
    [
        ["ticket", "show", BEYOND_64_BITS],
        ["ticket", "show", BEYOND_32_BITS],
        ["ticket", "assign", BEYOND_64_BITS, "1"],
        ["ticket", "assign", "1", BEYOND_64_BITS],
        ["person", "export", BEYOND_64_BITS],
        ["person", "export", BEYOND_32_BITS],
        ["person", "erase", BEYOND_64_BITS, "--yes"],
        ["person", "role", BEYOND_64_BITS, "staff"],
        ["kb", "promote", BEYOND_64_BITS],
        ["kb", "proposals", "--accept", BEYOND_64_BITS],
        ["kb", "restore", "lsc-setup", BEYOND_64_BITS],
    ],
    ids=" ".join,
)
def test_numbers_beyond_what_the_database_holds_are_refused(cli: Cli, args: list[str]) -> None:
    done = cli(*args)
    assert done.returncode == 2  # a usage error, before the database is asked
    assert_one_error(done, "1<=x<=2147483647")


def test_an_invitation_lives_as_long_as_asked_and_never_zero(cli: Cli) -> None:
    for lifetime, reason in (("0s", "longer than 0s"), ("99999999999999d", "at most 3650d")):
        done = cli("invite", "create", "--role", "official", "--valid-for", lifetime)
        assert done.returncode == 2
        assert_one_error(done, "--valid-for", reason)
    cli.ok("invite", "create", "--role", "official", "--valid-for", "90s")
    created, expires = asyncio.run(
        first_row(cli.database_url, "select created_at, expires_at from invites")
    )
    # SQLite hands text back to a plain query, PostgreSQL a timestamp.
    created, expires = (datetime.fromisoformat(str(at)) for at in (created, expires))
    assert (expires - created).total_seconds() == 90


def test_audit_since_a_span_too_long_for_a_date_is_one_line(cli: Cli) -> None:
    assert_one_error(cli("audit", "--since", "99999999999999d"), "--since")


@pytest.mark.parametrize(
    ("option", "limit"),
    [("--name", MAX_NAME_LENGTH), ("--city", MAX_PLACE_LENGTH), ("--country", MAX_PLACE_LENGTH)],
)
def test_an_invitation_holds_what_its_columns_hold(cli: Cli, option: str, limit: int) -> None:
    done = cli("invite", "create", "--role", "official", option, "x" * (limit + 1))
    assert_one_error(done, option, f"at most {limit}")
    cli.ok("invite", "create", "--role", "official", option, "x" * limit)
    assert asyncio.run(first_row(cli.database_url, "select count(*) from invites")) == (1,)


def entry_file(folder: Path, entry: Entry) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{entry.id}.md"
    path.write_text(dump_entry(entry), encoding="utf-8")
    return path


@pytest.mark.parametrize("length", [4001, 100_000])
def test_kb_phrase_is_bounded_like_a_phrasing(cli: Cli, tmp_path: Path, length: int) -> None:
    cli.ok("kb", "import", str(entry_file(tmp_path / "source", ENTRY)))
    before = cli.ok("kb", "show", ENTRY.id)
    assert_one_error(cli("kb", "phrase", ENTRY.id, "x" * length), "at most 4000")
    assert cli.ok("kb", "show", ENTRY.id) == before
    assert not (tmp_path / "knowledge").exists()  # nothing written either
    assert "has 2 ways of asking" in cli.ok("kb", "phrase", ENTRY.id, "y" * 4000)


def test_kb_phrase_stops_at_the_most_phrasings_an_entry_may_have(cli: Cli, tmp_path: Path) -> None:
    full = Entry(
        id="full",
        title="Full",
        questions=tuple(f"Question number {n}?" for n in range(MAX_PHRASINGS)),
        body="Answer.",
    )
    cli.ok("kb", "import", str(entry_file(tmp_path / "source", full)))
    assert_one_error(cli("kb", "phrase", "full", "One more?"), f"{MAX_PHRASINGS} phrasings")


def test_an_import_over_the_limits_is_refused_whole(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "source"
    entry_file(folder, ENTRY)
    long_answer = entry_file(folder, Entry("long", "Long", ("Why?",), "b" * 10_001))
    huge = folder / "huge.md"
    huge.write_text(dump_entry(Entry("huge", "Huge", ("Why?",), "b" * 3_000_000)))
    done = cli("kb", "import", str(folder))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{long_answer}: the answer is 10001 characters long; at most 10000" in done.stderr
    assert f"{huge}: the file is larger than 2 MiB" in done.stderr
    assert done.stderr.strip().endswith("2 problem(s) in 3 file(s); nothing imported")
    assert json.loads(cli.ok("stats", "--json"))["entries"]["published"] == 0


def test_an_export_to_a_missing_folder_is_refused_before_it_is_made(cli: Cli) -> None:
    done = cli("person", "export", "1", "--out", "/nonexistent/person-1.json")
    assert_one_error(done, "/nonexistent does not exist")
    assert "There is no person" not in done.stderr  # refused before the database is asked
