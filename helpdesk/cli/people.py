"""``helpdesk person`` and ``helpdesk expert``: who is registered, their data and roles."""

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from helpdesk.bootstrap import App, entry_writer
from helpdesk.cli._common import ROW_ID, Failure, author, in_transaction, run_app
from helpdesk.domain.people import Person, Role
from helpdesk.domain.routing import ExpertLoad
from helpdesk.services.context import Context
from helpdesk.services.people import change_role
from helpdesk.services.privacy import AlreadyErased, erase_person, export_person

__all__ = ["expert", "person"]


@click.group()
def expert() -> None:
    """The pool of experts."""


@expert.command("list")
@click.option("--json", "as_json", is_flag=True)
def expert_list(as_json: bool) -> None:
    """Experts with their languages, topics, load and availability."""

    async def body(app: App) -> tuple[list[ExpertLoad], datetime]:
        async with app.uow() as uow:
            return await uow.people.expert_loads(), app.clock()

    loads, now = run_app(body)
    for load in loads:
        person = load.expert
        row = {
            "id": person.id,
            "name": person.name,
            "city": person.city,
            "country": person.country,
            "languages": list(person.languages),
            "topics": list(person.topics),
            "open_tickets": load.open_tickets,
            "capacity": person.capacity,
            "available": person.is_available(now),
        }
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(
                f"#{person.id:<4} {person.name:24} {person.city or '-':14} "
                f"{','.join(person.languages) or '-':12} {load.open_tickets}/{person.capacity}"
                f" {'available' if row['available'] else 'away'}  "
                f"{','.join(person.topics) or '-'}"
            )
    if not as_json:
        click.echo(f"{len(loads)} experts", err=True)


@click.group()
def person() -> None:
    """A person's data and role: export, erase, change role."""


@person.command("list")
@click.option("--json", "as_json", is_flag=True)
def person_list(as_json: bool) -> None:
    """Everyone registered (the erased are not listed)."""

    async def body(app: App) -> list[Person]:
        async with app.uow() as uow:
            return await uow.people.all()

    people = run_app(body)
    for p in people:
        row = {"id": p.id, "name": p.name, "role": p.role.value, "city": p.city}
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(f"#{p.id:<4} {p.role.value:9} {p.name:24} {p.city or '-'}")
    if not as_json:
        click.echo(f"{len(people)} people", err=True)


@person.command("export")
@click.argument("person_id", type=ROW_ID)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File (else stdout).")
def person_export(person_id: int, out: Path | None) -> None:
    """Everything stored about a person, as JSON (a subject access request)."""

    async def exported(ctx: Context) -> dict[str, Any]:
        data = await export_person(ctx.uow, person_id, author(), ctx.now)
        if data is None:
            raise Failure(f"There is no person #{person_id}.")
        return data

    if out is not None and not out.parent.is_dir():
        # Checked first: the export is recorded in the audit log when it is made.
        raise click.BadParameter(f"the folder {out.parent} does not exist", param_hint="--out")
    data = run_app(lambda app: in_transaction(app, exported))
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if out is None:
        click.echo(text)
    else:
        try:
            out.write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            raise Failure(f"{out}: {error.strerror}") from None
        click.echo(f"Wrote {out}", err=True)


@person.command("erase")
@click.argument("person_id", type=ROW_ID)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def person_erase(person_id: int, yes: bool) -> None:
    """Erase a person's personal data; anonymous statistics stay. Cannot be undone."""
    if not yes:
        click.confirm(f"Erase everything personal about person #{person_id}?", abort=True)

    async def body(app: App) -> dict[str, int]:
        write = entry_writer(app.settings.knowledge_dir)

        async def erased(ctx: Context) -> dict[str, int]:
            try:
                counts = await erase_person(ctx.uow, person_id, author(), ctx.now, write)
            except AlreadyErased as error:
                raise Failure(f"Nothing to do: {error}.") from None
            if counts is None:
                raise Failure(f"There is no person #{person_id}.")
            return counts

        return await in_transaction(app, erased)

    counts = run_app(body)
    changed = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    click.echo(f"Erased person #{person_id}: {changed or 'nothing was stored'}.")


@person.command("role")
@click.argument("person_id", type=ROW_ID)
@click.argument("role", type=click.Choice([r.value for r in Role]))
def person_role(person_id: int, role: str) -> None:
    """Make a person an official, an expert or staff."""
    before = run_app(
        lambda app: in_transaction(
            app, lambda ctx: change_role(ctx, person_id, Role(role), author())
        )
    )
    if before is None:
        raise Failure(f"There is no person #{person_id}.")
    click.echo(f"Person #{person_id}: {before.value} → {role}.")
