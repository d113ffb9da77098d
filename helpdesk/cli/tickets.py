"""``helpdesk ticket``: questions handed to experts, their history and who has them."""

import json

import click

from helpdesk.bootstrap import App
from helpdesk.cli._common import ROW_ID, Failure, author, in_transaction, run_app
from helpdesk.domain.people import Person
from helpdesk.domain.schedule import ScheduledAction
from helpdesk.domain.tickets import Ticket, TicketStatus
from helpdesk.services.follow_through import overdue as overdue_tickets
from helpdesk.services.tickets import assign_by_staff

__all__ = ["ticket"]


@click.group()
def ticket() -> None:
    """Tickets: questions handed to experts."""


@ticket.command("list")
@click.option("--status", type=click.Choice([s.value for s in TicketStatus]))
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.option(
    "--overdue",
    is_flag=True,
    help="Only active tickets unanswered for longer than HELPDESK_EXPERT_REMINDER_AFTER.",
)
@click.option("--json", "as_json", is_flag=True)
def ticket_list(status: str | None, limit: int, overdue: bool, as_json: bool) -> None:
    """The newest tickets first."""

    async def body(app: App) -> list[Ticket]:
        async with app.uow() as uow:
            if overdue:
                active = [s for s in TicketStatus if s.is_active]
                return overdue_tickets(
                    await uow.tickets.find(statuses=active, limit=100_000),
                    app.clock(),
                    app.timings,
                )[:limit]
            return await uow.tickets.find(
                statuses=[TicketStatus(status)] if status else None, limit=limit
            )

    tickets = run_app(body)
    for t in tickets:
        if as_json:
            row = {
                "id": t.id,
                "status": t.status.value,
                "official_id": t.official_id,
                "assignee_id": t.assignee_id,
                "language": t.language,
                "topics": list(t.topics),
                "created_at": t.created_at.isoformat(),
                "text": t.text,
            }
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            preview = " ".join(t.text.split())[:60]
            click.echo(
                f"#{t.id:<5} {t.status.value:9} {t.created_at:%Y-%m-%d %H:%M}  "
                f"expert={t.assignee_id or '-'}  {preview}"
            )
    if not as_json:
        click.echo(f"{len(tickets)} tickets", err=True)


@ticket.command("assign")
@click.argument("number", type=ROW_ID)
@click.argument("expert_id", type=ROW_ID)
def ticket_assign(number: int, expert_id: int) -> None:
    """Give ticket NUMBER to the expert EXPERT_ID (see `expert list`), over routing."""
    expert = run_app(
        lambda app: in_transaction(
            app, lambda ctx: assign_by_staff(ctx, number, expert_id, author())
        )
    )
    click.echo(f"Ticket #{number} is now with {expert.name} (#{expert_id}); they have been told.")


@ticket.command("show")
@click.argument("number", type=ROW_ID)
def ticket_show(number: int) -> None:
    """A ticket with its whole history."""

    async def body(app: App) -> tuple[Ticket, dict[int | None, Person], list[ScheduledAction]]:
        async with app.uow() as uow:
            t = await uow.tickets.get(number)
            if t is None:
                raise Failure(f"no ticket #{number}")
            people: dict[int | None, Person] = {p.id: p for p in await uow.people.all()}
            return t, people, await uow.schedule.pending(ticket_id=number)

    t, people, upcoming = run_app(body)

    def who(person_id: int | None) -> str:
        person = people.get(person_id) if person_id is not None else None
        return f"{person.name} (#{person.id})" if person else "-"

    click.echo(f"Ticket #{t.id}: {t.status.value}")
    click.echo(f"Official: {who(t.official_id)}   Expert: {who(t.assignee_id)}")
    click.echo(f"Language: {t.language or '-'}   Topics: {', '.join(t.topics) or '-'}")
    click.echo(f"Question:\n  {t.text}")
    if t.answer:
        click.echo(f"Answer by {who(t.answered_by)}:\n  {t.answer}")
    if t.rating:
        click.echo(f"Rating: {t.rating.value}")
    if t.score:
        click.echo(f"Score: {t.score}/5" + (f" – {t.comment}" if t.comment else ""))
    if t.follow_up:
        click.echo(f"Follow-up: {t.follow_up.value}")
    click.echo("Scheduled:" if upcoming else "Scheduled: nothing")
    for action in upcoming:
        when = f"{action.due_at:%Y-%m-%d %H:%M:%S} UTC"
        click.echo(f"  {when} {action.kind.value} for {who(action.person_id)}")
    click.echo("History:")
    for event in t.events:
        subject = f" expert={who(event.expert_id)}" if event.expert_id else ""
        detail = f" – {event.detail}" if event.detail else ""
        click.echo(
            f"  {event.at:%Y-%m-%d %H:%M:%S} {event.kind.value:10} by "
            f"{who(event.actor_id)}{subject}{detail}"
        )
