"""Backup and restore as docs/operations.md documents them: ``helpdesk db backup`` (SQLite's
online backup) and ``pg_dump -Fc`` / ``pg_restore`` for PostgreSQL."""

import shutil
import subprocess
from pathlib import Path

from tests.conftest import PG_TEMPLATE
from tests.integration.test_cli import ROOT, Cli, assert_one_line_failure
from tests.servers.postgres import PostgresServer


def _entries(cli: Cli) -> str:
    return cli.ok("kb", "list", "--json")


def test_sqlite_online_backup_and_restore(tmp_path: Path) -> None:
    live = tmp_path / "helpdesk.db"
    cli = Cli(tmp_path, f"sqlite:///{live}")
    cli.ok("kb", "import", str(ROOT / "knowledge"))
    before = _entries(cli)
    assert "backed up" in cli.ok("db", "backup", str(tmp_path / "copy.db"))
    assert cli("db", "backup", str(tmp_path / "copy.db")).returncode != 0  # never overwrites
    cli.ok("kb", "import", "--replace", str(ROOT / "tests" / "data" / "foreign-kb"))  # oops
    assert _entries(cli) != before
    shutil.copy(tmp_path / "copy.db", live)  # undone: with the bot stopped, the copy back
    for leftover in (tmp_path / "helpdesk.db-wal", tmp_path / "helpdesk.db-shm"):
        leftover.unlink(missing_ok=True)
    assert _entries(cli) == before


def test_a_backup_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path, f"sqlite:///{tmp_path / 'helpdesk.db'}")
    cli.ok("db", "upgrade")
    done = cli("db", "backup", "/nonexistent/copy.db")
    assert_one_line_failure(done)
    assert done.stderr == (
        "Error: cannot write /nonexistent/copy.db: the folder /nonexistent does not exist\n"
    )


def test_postgresql_dump_and_restore(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.new_database(template=PG_TEMPLATE)
    cli = Cli(tmp_path, url)
    cli.ok("kb", "import", str(ROOT / "knowledge"))
    before = _entries(cli)
    dump = tmp_path / "helpdesk.dump"
    subprocess.run(
        [str(postgres.bin_dir / "pg_dump"), "-Fc", "-f", str(dump), "--dbname", url],
        check=True,
    )
    restored_url = postgres.new_database()
    subprocess.run(
        [str(postgres.bin_dir / "pg_restore"), "--no-owner", "--dbname", restored_url, str(dump)],
        check=True,
    )
    assert _entries(Cli(tmp_path, restored_url)) == before
