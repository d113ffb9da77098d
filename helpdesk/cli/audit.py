"""``helpdesk audit``: the trail of staff actions."""

import json

import click

from helpdesk.bootstrap import App
from helpdesk.cli._common import run_app, span
from helpdesk.domain.audit import AuditAction, AuditEvent

__all__ = ["audit_list"]


@click.command("audit")
@click.option("--since", help="Only this recent, e.g. 7d.")
@click.option("--action", type=click.Choice([a.value for a in AuditAction]))
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def audit_list(since: str | None, action: str | None, limit: int, as_json: bool) -> None:
    """Staff actions, newest first: who did what, and when."""
    window = span(since, "--since", zero=True) if since is not None else None

    async def body(app: App) -> list[AuditEvent]:
        async with app.uow() as uow:
            return await uow.audit.find(
                since=app.clock() - window if window else None,
                action=AuditAction(action) if action else None,
                limit=limit,
            )

    events = run_app(body)
    for event in events:
        if as_json:
            row = {
                "at": event.at.isoformat(),
                "actor": event.actor,
                "action": event.action.value,
                "subject": event.subject,
                "detail": event.detail,
            }
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            detail = f"  {event.detail}" if event.detail else ""
            click.echo(
                f"{event.at:%Y-%m-%d %H:%M}  {event.actor:28} {event.action.value:9} "
                f"{event.subject}{detail}"
            )
    if not as_json:
        click.echo(f"{len(events)} events", err=True)
