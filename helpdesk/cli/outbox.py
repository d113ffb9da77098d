"""``helpdesk outbox``: messages that could not be delivered, and sending them again."""

import json

import click

from helpdesk.bootstrap import App
from helpdesk.cli._common import ROW_ID, Failure, author, in_transaction, run_app
from helpdesk.domain.people import Person
from helpdesk.services.context import Context
from helpdesk.services.delivery import resend
from helpdesk.services.ports import OutboxItem

__all__ = ["outbox"]


@click.group()
def outbox() -> None:
    """Messages waiting to be delivered, and those that could not be."""


@outbox.command("list")
@click.option("--failed", is_flag=True, help="The messages given up on (the default).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def outbox_list(failed: bool, limit: int, as_json: bool) -> None:
    """Messages that could not be delivered, newest first, with why (`resend` sends one
    again once the cause is fixed)."""

    async def body(app: App) -> tuple[list[OutboxItem], dict[int | None, Person]]:
        async with app.uow() as uow:
            items = await uow.outbox.failed(limit)
            return items, {p.id: p for p in await uow.people.all()}

    items, people = run_app(body)
    for item in items:
        person = people.get(item.person_id) if item.person_id is not None else None
        row = {
            "id": item.id,
            "platform": item.identity.platform,
            "person_id": item.person_id,
            "person": person.name if person else None,
            "ref": item.reply.ref,
            "created_at": item.created_at.isoformat(),
            "failed_at": item.failed_at.isoformat() if item.failed_at else None,
            "attempts": item.attempts,
            "error": item.last_error,
        }
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        to = f"{person.name} (#{person.id})" if person else "someone not registered"
        failed_at = f"{item.failed_at:%Y-%m-%d %H:%M}" if item.failed_at else "-"
        click.echo(
            f"#{item.id:<6} {item.identity.platform:9} {failed_at}  to {to}"
            + (f"  [{item.reply.ref}]" if item.reply.ref else "")
        )
        click.echo(f"        {item.last_error or '-'}")
    if not as_json:
        click.echo(f"{len(items)} messages could not be delivered", err=True)


@outbox.command("resend")
@click.argument("item_ids", nargs=-1, required=True, type=ROW_ID)
def outbox_resend(item_ids: tuple[int, ...]) -> None:
    """Queue messages that could not be delivered again, after fixing the cause."""

    async def queued(ctx: Context) -> None:
        missing = [n for n in item_ids if not await resend(ctx.uow, n, author(), ctx.now)]
        if missing:
            listed = ", ".join(f"#{n}" for n in missing)
            raise Failure(f"not a message that could not be delivered: {listed}")

    run_app(lambda app: in_transaction(app, queued))
    click.echo(
        f"Queued again: {', '.join(f'#{n}' for n in item_ids)}; the running bot sends them "
        "within seconds."
    )
