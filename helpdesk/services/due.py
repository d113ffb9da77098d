"""What runs when it falls due: reminding an expert, passing a ticket on that nobody
answered, asking an official whether the answer helped, a digest for staff.

Due actions are claimed one at a time, each in the transaction that does its work and
queues its messages, so a crash or a second worker never runs one twice. Whatever falls
in the recipient's quiet hours waits for their morning. What schedules them is
services/follow_through.py."""

import logging
from datetime import datetime, timedelta

from helpdesk.domain.people import Person
from helpdesk.domain.schedule import (
    ActionKind,
    ScheduledAction,
    Timings,
    describe_duration,
    format_duration,
)
from helpdesk.domain.text import preview
from helpdesk.domain.tickets import Ticket, TicketStatus
from helpdesk.i18n import Msg, Quote, Reply, Text
from helpdesk.services.conflicts import again_on_conflict
from helpdesk.services.context import Context
from helpdesk.services.follow_through import ensure_digests, local_time, overdue
from helpdesk.services.messenger import notify
from helpdesk.services.notices import expert_notice, follow_up_notice
from helpdesk.services.ports import Clock, UnitOfWorkFactory
from helpdesk.services.reports import group_similar, summarise
from helpdesk.services.tickets import route

__all__ = ["run_due"]

log = logging.getLogger(__name__)

_RETRY_FAILED = timedelta(minutes=5)
_TOP_ESCALATED = 3
_DIGEST_PREVIEW = 100


async def run_due(
    uow_factory: UnitOfWorkFactory, clock: Clock, timings: Timings, *, limit: int = 100
) -> int:
    """Run the actions that are due, one transaction each. Returns how many ran."""
    try:
        async with uow_factory() as uow:
            await ensure_digests(uow, clock(), timings)
            await uow.commit()
    except Exception as error:
        # Usually another worker planned the same digest a moment earlier (the database
        # allows one per person), which is harmless and rare (once a week per staff
        # member); a warning still shows any other failure.
        log.warning("digests not planned this round: %s", type(error).__name__)
    ran = 0
    while ran < limit:
        action: ScheduledAction | None = None
        try:
            # A conflict rolls the claim back too: the next attempt claims afresh, and
            # finds the action cancelled if the winner (an answer, say) made it needless.
            async for attempt in again_on_conflict():
                with attempt:
                    async with uow_factory() as uow:
                        now = clock()
                        action = await uow.schedule.claim_due(now)
                        if action is None:
                            break
                        await _run_claimed(Context(uow, now, timings), action)
                        await uow.commit()
            if action is None:
                break
        except Exception:
            if action is None or action.id is None:
                raise
            # Never the texts: only what failed. It is tried again later, not in a loop.
            log.exception("scheduled %s #%s failed", action.kind, action.id)
            async with uow_factory() as uow:
                await uow.schedule.postpone(action.id, clock() + _RETRY_FAILED)
                await uow.commit()
        ran += 1
    return ran


async def _run_claimed(ctx: Context, action: ScheduledAction) -> None:
    """Run a claimed action and record what came of it, or when to try again."""
    assert action.id is not None
    outcome = await _run(ctx, action)
    if isinstance(outcome, datetime):
        await ctx.uow.schedule.postpone(action.id, outcome)
    else:
        await ctx.uow.schedule.finish(action.id, outcome)


async def _run(ctx: Context, action: ScheduledAction) -> str | datetime:
    """What was done ("sent", or why nothing was needed), or when to try again."""
    person = await ctx.uow.people.get(action.person_id)
    if person is None:
        return "skipped: the person is gone"
    if action.kind.respects_quiet_hours and ctx.timings.quiet_hours is not None:
        morning = ctx.timings.quiet_hours.next_allowed(ctx.now, person.timezone)
        if morning > ctx.now:
            return morning
    if action.kind is ActionKind.DIGEST:
        return await _digest(ctx, person, action)
    ticket = await ctx.uow.tickets.get(action.ticket_id) if action.ticket_id else None
    if ticket is None:
        return "skipped: no ticket"
    if action.kind is ActionKind.REMIND_EXPERT:
        return await _remind(ctx, person, ticket)
    if action.kind is ActionKind.REASSIGN:
        return await _reassign(ctx, person, ticket)
    return await _follow_up(ctx, person, ticket)


def _still_with(ticket: Ticket, expert: Person) -> bool:
    return ticket.status is TicketStatus.ASSIGNED and ticket.assignee_id == expert.id


async def _remind(ctx: Context, expert: Person, ticket: Ticket) -> str:
    if not _still_with(ticket, expert):
        return f"not needed: ticket is {ticket.status}"
    assert expert.id is not None and ticket.id is not None
    ticket.remind(expert.id, ctx.now)
    await ctx.uow.tickets.save(ticket)
    since = ticket.last_assigned_at or ticket.created_at
    heading = Text(Msg.EXPERT_REMINDER, {"ticket": ticket.id, "since": local_time(since, expert)})
    await notify(ctx.uow, expert, expert_notice(ticket, heading), ctx.now)
    return "sent"


async def _reassign(ctx: Context, expert: Person, ticket: Ticket) -> str:
    if not _still_with(ticket, expert):
        return f"not needed: ticket is {ticket.status}"
    waited = format_duration(ctx.timings.reassign_after)
    successor = await route(ctx, ticket, why=f"no answer within {waited}")
    told = Msg.EXPERT_TICKET_MOVED if successor is not None else Msg.EXPERT_TICKET_RELEASED
    await notify(ctx.uow, expert, Reply.say(told, ticket=ticket.id or 0, waited=waited), ctx.now)
    return f"reassigned to {successor.id}" if successor else "released: nobody left"


async def _follow_up(ctx: Context, official: Person, ticket: Ticket) -> str:
    if ticket.status not in (TicketStatus.ANSWERED, TicketStatus.CLOSED):
        return f"not needed: ticket is {ticket.status}"
    if ticket.followed_up_since_answer:
        return "not needed: already followed up"
    ticket.asked_to_follow_up(ctx.now)
    await ctx.uow.tickets.save(ticket)
    await notify(ctx.uow, official, follow_up_notice(ticket), ctx.now)
    return "sent"


async def _digest(ctx: Context, staff: Person, action: ScheduledAction) -> str:
    """The week's figures (counted as the reports count them) and the questions most
    often passed to experts, similar ones together."""
    timings = ctx.timings
    start = action.due_at - timings.digest_every  # its week, even when it went out late
    questions = await ctx.uow.questions.since(start)
    recent = await ctx.uow.tickets.changed_since(start)
    active = await ctx.uow.tickets.find(
        statuses=[s for s in TicketStatus if s.is_active], limit=10_000
    )
    summary = summarise(questions, recent, {}, start)
    none = Text(Msg.DIGEST_NONE)
    median = summary.median_first_answer
    parts: list[Text | Quote] = [
        Text(
            Msg.DIGEST,
            {
                "days": max(1, round(timings.digest_every.total_seconds() / 86400)),
                "new": summary.new_tickets,
                "answered": summary.answered_tickets,
                "overdue": len(overdue(active, ctx.now, timings)),
                "median": describe_duration(median) if median else none,
                "helpful": summary.helpful,
                "not_helpful": summary.not_helpful,
                "score": f"{summary.mean_score:.1f}" if summary.mean_score is not None else none,
            },
        )
    ]
    new = [t for t in recent if t.created_at >= start]
    groups = group_similar([t.text for t in new])[:_TOP_ESCALATED]
    if groups:
        parts.append(Text(Msg.DIGEST_TOP))
        parts.extend(
            Text(
                Msg.DIGEST_TOP_LINE,
                {"count": len(group), "text": Quote(preview(new[group[0]].text, _DIGEST_PREVIEW))},
            )
            for group in groups
        )
    quoted = tuple(dict.fromkeys(new[g[0]].official_id for g in groups))
    await notify(ctx.uow, staff, Reply(tuple(parts), mentions=quoted), ctx.now)
    nxt = action.due_at + timings.digest_every
    await ctx.uow.schedule.add(
        ScheduledAction(
            kind=ActionKind.DIGEST,
            due_at=nxt if nxt > ctx.now else ctx.now + timings.digest_every,
            person_id=action.person_id,
            created_at=ctx.now,
        )
    )
    return "sent"
