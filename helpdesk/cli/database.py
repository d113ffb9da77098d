"""``helpdesk db``: the schema and backups."""

from pathlib import Path

import click

from helpdesk.cli._common import Failure, run, settings
from helpdesk.storage.database import Database, DatabaseError, backup_sqlite

__all__ = ["db"]


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (the bot and every command also do this on start)."""
    loaded = settings()

    async def upgrade() -> None:
        database = Database.connect(loaded.database_url)
        try:
            await database.upgrade()
        finally:
            await database.close()

    run(upgrade())
    click.echo("database schema is up to date")


@db.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(target: Path) -> None:
    """Copy a SQLite database while the bot runs (SQLite's online backup).

    PostgreSQL: use pg_dump (see "Backup and restore" in docs/operations.md)."""
    try:
        source = backup_sqlite(settings().database_url, target)
    except DatabaseError as error:
        raise Failure(str(error)) from None
    click.echo(f"backed up {source} to {target}")
