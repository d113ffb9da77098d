"""A setting the helpdesk cannot use, as staff meet it: ``python bot.py`` and the
``helpdesk`` command both say so in one line on stderr and exit non-zero, without a
traceback and without the value (a database URL holds a password, and tokens are
settings too)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import helpdesk
from tests.conftest import PG_TEMPLATE
from tests.servers.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "SECRETPW"
# bot.py in a process of its own; the helpdesk command in this one (tests/cli.py), its
# real stderr being tested in tests/integration/test_cli.py.
PROGRAMS = {
    "bot.py": [sys.executable, str(ROOT / "bot.py")],
    "helpdesk": ["kb", "list"],
}


def run(program: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HELPDESK_") or key == "HELPDESK_TEST_DATABASE"
    }
    environment |= {
        "HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'helpdesk.db'}",
        "HELPDESK_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
        "HELPDESK_SEMANTIC_MATCHING": "false",
        **env,
    }
    if program == "helpdesk":
        return helpdesk(PROGRAMS[program], cwd=tmp_path, env=environment, stdin="")
    return subprocess.run(
        PROGRAMS[program],
        cwd=tmp_path,
        env=environment,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line_without(done: subprocess.CompletedProcess[str], *secrets: str) -> str:
    """The one line on stderr, checked for a non-zero exit and for none of ``secrets``."""
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for secret in secrets:
        assert secret not in done.stdout + done.stderr
    return lines[0]


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"postgresql//u:{PASSWORD}@db.example.org/helpdesk", "not a database URL"),
        (f"postgresql://u:{PASSWORD}@db.example.org:54x2/helpdesk", "port"),
        (f"postgresql://u:{PASSWORD}@127.0.0.1:99999/helpdesk", "port"),
        (f"postgresql://u:{PASSWORD}@127.0.0.1/helpdesk?sslmode=requir", "sslmode"),
        (f"postgresql://u:{PASSWORD}@127.0.0.1/helpdesk?connect_timeout=5", "connect_timeout"),
        (f"postgresql+nosuchdriver://u:{PASSWORD}@127.0.0.1/helpdesk", "driver"),
        (f"mysql://u:{PASSWORD}@127.0.0.1/helpdesk", "mysql"),
    ],
)
def test_a_bad_database_url_is_one_line_without_its_password(
    tmp_path: Path, program: str, url: str, reason: str
) -> None:
    line = assert_one_line_without(run(program, tmp_path, HELPDESK_DATABASE_URL=url), PASSWORD)
    assert "HELPDESK_DATABASE_URL" in line and reason in line


@pytest.mark.parametrize("program", PROGRAMS)
def test_a_bad_setting_is_named_without_its_value(tmp_path: Path, program: str) -> None:
    config = tmp_path / "helpdesk.toml"
    config.write_text("telegram_token = 918273645\n")
    done = run(
        program,
        tmp_path,
        HELPDESK_CONFIG=str(config),
        HELPDESK_REASSIGN_AFTER=PASSWORD,
        HELPDESK_METRICS_PORT=PASSWORD,
    )
    line = assert_one_line_without(done, PASSWORD, "918273645")
    for name in ("TELEGRAM_TOKEN", "REASSIGN_AFTER", "METRICS_PORT"):
        assert f"HELPDESK_{name}: " in line


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize(
    "env",
    [
        {"HELPDESK_RETENTION_DAYS": "99999999999"},
        {"HELPDESK_REASSIGN_AFTER": "99999999999999d"},
        {"HELPDESK_CONFIG": "helpdesk.toml"},  # written below, and not TOML
    ],
    ids=["retention", "duration", "toml"],
)
def test_settings_that_gave_a_traceback_are_one_line(
    tmp_path: Path, program: str, env: dict[str, str]
) -> None:
    (tmp_path / "helpdesk.toml").write_text('telegram_token = "12\n')
    assert_one_line_without(run(program, tmp_path, **env))


def test_urls_as_people_write_them_work_on_sqlite(tmp_path: Path) -> None:
    done = run(
        "helpdesk", tmp_path, HELPDESK_DATABASE_URL=f"sqlite+pysqlite:///{tmp_path / 'x.db'}"
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "0 entries\n"


def test_urls_as_people_write_them_work_on_postgresql(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    url = postgres.new_database(template=PG_TEMPLATE)
    for written in (
        f"{url}?sslmode=prefer",
        f"{url}?sslmode=disable",
        url.replace("postgresql://", "postgresql+psycopg2://"),
    ):
        done = run("helpdesk", tmp_path, HELPDESK_DATABASE_URL=written)
        assert done.returncode == 0, done.stderr
    # sslmode=require is passed on as asyncpg's ssl: the test server has no certificate,
    # so connecting fails, in one line.
    with_password = url.replace("@", f":{PASSWORD}@", 1)
    for program in PROGRAMS:
        done = run(program, tmp_path, HELPDESK_DATABASE_URL=f"{with_password}?sslmode=require")
        assert "database" in assert_one_line_without(done, PASSWORD)
