"""``python bot.py`` as a user runs it, with piped input."""

import os
import pty
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.cli import helpdesk
from tests.servers.postgres import scratch_database

# Each test runs on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("engine")

ROOT = Path(__file__).resolve().parents[2]


def bot_environment(url: str, **env: str) -> dict[str, str]:
    """The settings of a console bot on ``url`` with the project's knowledge folder."""
    environment = {
        **os.environ,
        "HELPDESK_DATABASE_URL": url,
        "HELPDESK_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
        "HELPDESK_SEMANTIC_MATCHING": "false",  # the embedding model is tested elsewhere
        # Bots run side by side in the suite: none takes the web console's fixed port (the
        # console has tests of its own, on ports of their own).
        "HELPDESK_WEB_PORT": "0",
        **env,
    }
    for name in ("HELPDESK_TELEGRAM_TOKEN", "HELPDESK_MATRIX_HOMESERVER", "HELPDESK_CONFIG"):
        if name not in env:
            environment.pop(name, None)
    return environment


def helpdesk_command(environment: dict[str, str], *args: str, cwd: Path | None = None) -> str:
    """What ``helpdesk ARGS`` prints, run as staff run it (tests/cli.py); it must succeed."""
    done = helpdesk(args, cwd=cwd or Path.cwd(), env=environment)
    done.check_returncode()
    return done.stdout


def run_bot(
    tmp_path: Path, stdin: str, url: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``bot.py`` on ``url`` (a new database if not given)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py")],
        input=stdin,
        cwd=tmp_path,
        env=bot_environment(url or scratch_database(tmp_path), **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_whole_loop_from_piped_input(tmp_path: Path) -> None:
    script = (
        "\n".join(
            [
                "How do we set up a local safety council?",
                "1",
                "Who pays for the new street lights in the villages?",
                "/as expert",
                "/tickets",
                "/answer 1 The municipal budget: ask the finance department.",
                "/as official",
                "1",
            ]
        )
        + "\n"
    )
    url = scratch_database(tmp_path)
    done = run_bot(tmp_path, script, url)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Imported" in done.stderr and "knowledge entries" in done.stderr
    assert "Setting up a Local Safety Council" in out
    assert "Thank you! I'm glad it helped." in out
    assert "passed your question to an expert (ticket #1)" in out
    assert "New question for you: ticket #1" in out
    assert "Your answer to ticket #1 was sent to the official." in out
    assert "The municipal budget: ask the finance department." in out
    assert "Ticket #1 is now closed." in out
    assert "Traceback" not in done.stderr

    # A second run keeps everything: no second import, the ticket is still there.
    again = run_bot(tmp_path, "/tickets\n", url)
    assert again.returncode == 0
    assert "Imported" not in again.stderr
    assert "#1 (closed)" in again.stdout


def test_a_bad_database_url_is_one_line(tmp_path: Path) -> None:
    done = run_bot(tmp_path, "", HELPDESK_DATABASE_URL="nonsense")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("bad setting HELPDESK_DATABASE_URL: not a database URL")
    assert "Traceback" not in done.stderr


def test_what_is_scheduled_for_a_ticket_is_shown_and_overdue_tickets_listed(
    tmp_path: Path,
) -> None:
    url = scratch_database(tmp_path)
    done = run_bot(
        tmp_path, "/ask Who pays for the new street lights in the villages?\n/tickets\n", url
    )
    assert done.returncode == 0, done.stderr
    assert "next: reminder to the expert" in done.stdout

    def cli(*args: str, **env: str) -> str:
        environment = {
            **os.environ,
            "HELPDESK_DATABASE_URL": url,
            "HELPDESK_SEMANTIC_MATCHING": "false",
            **env,
        }
        return helpdesk_command(environment, *args, cwd=tmp_path)

    shown = cli("ticket", "show", "1")
    assert "Scheduled:" in shown and "remind_expert for" in shown and "reassign for" in shown
    assert cli("ticket", "list", "--overdue").strip() == ""
    late = cli("ticket", "list", "--overdue", HELPDESK_EXPERT_REMINDER_AFTER="0s")
    assert late.startswith("#1 ")


def test_workers_starting_together_on_a_new_database_import_the_knowledge_once(
    tmp_path: Path,
) -> None:
    environment = bot_environment(scratch_database(tmp_path))
    starting = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py")],
            cwd=tmp_path,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    errors = [process.communicate("", timeout=60)[1] for process in starting]
    assert [process.returncode for process in starting] == [0, 0, 0], errors
    assert sum("Imported" in err for err in errors) == 1, errors
    listed = helpdesk_command(environment, "kb", "list", "--json")
    assert len(listed.splitlines()) == len(list((ROOT / "knowledge").glob("*.md")))


NOT_UTF8 = (
    b"How do we set up a local safety council?\n"
    b"\xff\xfe\xfd\xfc\n"
    b"Who pays for street lights in the villages?\xc3\n"
    b"/tickets\n"
)


def assert_every_line_was_handled(out: str) -> None:
    assert "Setting up a Local Safety Council" in out  # the good line before the bad one
    assert "I can only read text messages." in out
    assert "(ticket #1)" in out and "#1 (with an expert)" in out


def test_piped_input_that_is_not_utf8_is_answered_line_by_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")],
        input=NOT_UTF8,
        cwd=tmp_path,
        # Strict decoding, as with a UTF-8 locale (C.UTF-8 would escape the bytes instead).
        env=bot_environment(scratch_database(tmp_path), PYTHONIOENCODING="utf-8:strict"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    assert_every_line_was_handled(done.stdout.decode())


def test_typed_input_that_is_not_utf8_is_answered_line_by_line(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    attributes = termios.tcgetattr(terminal)
    attributes[3] &= ~termios.ECHO  # what is typed is not printed back to the controller
    termios.tcsetattr(terminal, termios.TCSANOW, attributes)
    bot = subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py")],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=bot_environment(scratch_database(tmp_path), PYTHONIOENCODING="utf-8:strict"),
    )
    os.close(terminal)
    try:
        # The terminal holds typed lines until they are read; ^D at a line's start ends it.
        os.write(controller, NOT_UTF8 + b"\x04")
        out, err = bot.communicate(timeout=60)
    finally:
        os.close(controller)
    assert bot.returncode == 0, err
    assert b"Traceback" not in err
    text = out.decode()
    assert "official> " in text  # the prompt: it knew it was typed at
    assert_every_line_was_handled(text)
