"""What a change to a ticket schedules: when it is assigned, a reminder and a
reassignment for its expert; when it is answered, those are cancelled and a follow-up
with the official is planned; staff each have their next digest. What runs when these
fall due is services/due.py."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from helpdesk.domain.people import Person, Role
from helpdesk.domain.schedule import ActionKind, ScheduledAction, Timings, zone
from helpdesk.domain.tickets import Ticket, TicketEventKind, TicketStatus
from helpdesk.i18n import Msg
from helpdesk.services.context import Context
from helpdesk.services.ports import UnitOfWork

__all__ = [
    "ACTION_NAMES",
    "after_answer",
    "after_assignment",
    "cancel_pending",
    "ensure_digests",
    "local_time",
    "overdue",
]

ACTION_NAMES = {
    ActionKind.REMIND_EXPERT: Msg.ACTION_REMIND_EXPERT,
    ActionKind.REASSIGN: Msg.ACTION_REASSIGN,
    ActionKind.FOLLOW_UP: Msg.ACTION_FOLLOW_UP,
    ActionKind.DIGEST: Msg.ACTION_DIGEST,
}
_EXPERT_WAIT = (ActionKind.REMIND_EXPERT, ActionKind.REASSIGN)
# A ticket's history when nothing can be planned for it yet: plans are made only once it
# is assigned or answered (below), and an assignment being made now is not one of them.
_NOTHING_PLANNED_YET = (
    [TicketEventKind.CREATED],
    [TicketEventKind.CREATED, TicketEventKind.ASSIGNED],
)


def local_time(at: datetime, person: Person | None) -> str:
    """A moment as the person's wall clock shows it."""
    return at.astimezone(zone(person.timezone if person else None)).strftime("%Y-%m-%d %H:%M")


async def cancel_pending(
    ctx: Context, ticket: Ticket, outcome: str, kinds: Sequence[ActionKind] | None = None
) -> None:
    """What was planned for the ticket is not needed any more (``outcome`` says why)."""
    assert ticket.id is not None
    if [event.kind for event in ticket.events] in _NOTHING_PLANNED_YET:
        return  # a new ticket: no read of the schedule for every escalation
    pending = await ctx.uow.schedule.pending(ticket_id=ticket.id, kinds=kinds)
    await ctx.uow.schedule.cancel([a.id for a in pending if a.id is not None], ctx.now, outcome)


async def after_assignment(ctx: Context, ticket: Ticket, expert_id: int) -> None:
    """The expert has the ticket: remind them, then pass it on if it stays unanswered."""
    await cancel_pending(ctx, ticket, "reassigned", _EXPERT_WAIT)
    timings = ctx.timings
    if timings.remind_after < timings.reassign_after:
        await _schedule(ctx, ActionKind.REMIND_EXPERT, timings.remind_after, expert_id, ticket)
    await _schedule(ctx, ActionKind.REASSIGN, timings.reassign_after, expert_id, ticket)


async def after_answer(ctx: Context, ticket: Ticket) -> None:
    """Answered: no more reminders; ask the official later whether it helped."""
    await cancel_pending(ctx, ticket, "answered", _EXPERT_WAIT)
    await cancel_pending(ctx, ticket, "answered again", (ActionKind.FOLLOW_UP,))
    await _schedule(
        ctx, ActionKind.FOLLOW_UP, ctx.timings.follow_up_after, ticket.official_id, ticket
    )


async def _schedule(
    ctx: Context, kind: ActionKind, after: timedelta, person_id: int, ticket: Ticket | None
) -> None:
    await ctx.uow.schedule.add(
        ScheduledAction(
            kind=kind,
            due_at=ctx.now + after,
            person_id=person_id,
            ticket_id=ticket.id if ticket else None,
            created_at=ctx.now,
        )
    )


def overdue(tickets: Sequence[Ticket], now: datetime, timings: Timings) -> list[Ticket]:
    """Active tickets nobody has answered for longer than the reminder delay."""
    late = []
    for ticket in tickets:
        if not ticket.status.is_active:
            continue
        assigned = ticket.last_assigned_at if ticket.status is TicketStatus.ASSIGNED else None
        latest = ticket.events[-1].at if ticket.events else ticket.created_at
        if now - (assigned or latest) >= timings.remind_after:
            late.append(ticket)
    return late


async def ensure_digests(uow: UnitOfWork, now: datetime, timings: Timings) -> None:
    """Every member of staff has their next digest scheduled."""
    planned = {a.person_id for a in await uow.schedule.pending(kinds=[ActionKind.DIGEST])}
    for staff in await uow.people.all(Role.STAFF):
        if staff.id is not None and staff.id not in planned:
            await uow.schedule.add(
                ScheduledAction(
                    kind=ActionKind.DIGEST,
                    due_at=now + timings.digest_every,
                    person_id=staff.id,
                    created_at=now,
                )
            )
