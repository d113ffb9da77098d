"""A ticket's life over time: what is scheduled when it changes, and what runs when due.

When a ticket is assigned, a reminder and a reassignment are scheduled for the expert;
an answer cancels them and schedules a follow-up with the official; staff get a digest
every week. Due actions are claimed one at a time, each in the transaction that does
its work and queues its messages, so a crash or a second worker never runs one twice.
Whatever falls in the recipient's quiet hours waits for their morning.
"""

import logging
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta

from rapidfuzz import fuzz

from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.schedule import (
    ActionKind,
    ScheduledAction,
    Timings,
    describe_duration,
    format_duration,
    zone,
)
from helpdesk.domain.tickets import FollowUp, Ticket, TicketStatus
from helpdesk.i18n import Button, Msg, Quote, Reply, Text
from helpdesk.services.notices import expert_notice
from helpdesk.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from helpdesk.services.turn import Turn

__all__ = [
    "ACTION_NAMES",
    "after_answer",
    "after_assignment",
    "cancel_pending",
    "ensure_digests",
    "local_time",
    "overdue",
    "run_due",
]

log = logging.getLogger(__name__)

SYSTEM = ChatIdentity("system", "scheduler")  # the sender of what nobody sent
ACTION_NAMES = {
    ActionKind.REMIND_EXPERT: Msg.ACTION_REMIND_EXPERT,
    ActionKind.REASSIGN: Msg.ACTION_REASSIGN,
    ActionKind.FOLLOW_UP: Msg.ACTION_FOLLOW_UP,
    ActionKind.DIGEST: Msg.ACTION_DIGEST,
}
_EXPERT_WAIT = (ActionKind.REMIND_EXPERT, ActionKind.REASSIGN)
_RETRY_FAILED = timedelta(minutes=5)
_TOP_ESCALATED = 3
_SAME_QUESTION = 75  # rapidfuzz token_set_ratio from which two ticket texts count as one


def local_time(at: datetime, person: Person | None) -> str:
    """A moment as the person's wall clock shows it."""
    return at.astimezone(zone(person.timezone if person else None)).strftime("%Y-%m-%d %H:%M")


# -- scheduling, called by the ticket services -------------------------------------------


async def cancel_pending(
    turn: Turn, ticket: Ticket, outcome: str, kinds: Sequence[ActionKind] | None = None
) -> None:
    assert ticket.id is not None
    pending = await turn.uow.schedule.pending(ticket_id=ticket.id, kinds=kinds)
    await turn.uow.schedule.cancel([a.id for a in pending if a.id is not None], turn.now, outcome)


async def after_assignment(turn: Turn, ticket: Ticket, expert_id: int) -> None:
    """The expert has the ticket: remind them, then pass it on if it stays unanswered."""
    await cancel_pending(turn, ticket, "reassigned", _EXPERT_WAIT)
    timings = turn.timings
    if timings.remind_after < timings.reassign_after:
        await _schedule(turn, ActionKind.REMIND_EXPERT, timings.remind_after, expert_id, ticket)
    await _schedule(turn, ActionKind.REASSIGN, timings.reassign_after, expert_id, ticket)


async def after_answer(turn: Turn, ticket: Ticket) -> None:
    """Answered: no more reminders; ask the official later whether it helped."""
    await cancel_pending(turn, ticket, "answered", _EXPERT_WAIT)
    await cancel_pending(turn, ticket, "answered again", (ActionKind.FOLLOW_UP,))
    await _schedule(
        turn, ActionKind.FOLLOW_UP, turn.timings.follow_up_after, ticket.official_id, ticket
    )


async def _schedule(
    turn: Turn, kind: ActionKind, after: timedelta, person_id: int, ticket: Ticket | None
) -> None:
    await turn.uow.schedule.add(
        ScheduledAction(
            kind=kind,
            due_at=turn.now + after,
            person_id=person_id,
            ticket_id=ticket.id if ticket else None,
            created_at=turn.now,
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


# -- running what is due -----------------------------------------------------------------


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
            async with uow_factory() as uow:
                now = clock()
                action = await uow.schedule.claim_due(now)
                if action is None:
                    break
                turn = Turn(uow, now, SYSTEM, None, timings=timings)
                outcome = await _run(turn, action)
                assert action.id is not None
                if isinstance(outcome, datetime):
                    await uow.schedule.postpone(action.id, outcome)
                else:
                    await uow.schedule.finish(action.id, outcome)
                await uow.commit()
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


async def _run(turn: Turn, action: ScheduledAction) -> str | datetime:
    """What was done ("sent", or why nothing was needed), or when to try again."""
    person = await turn.uow.people.get(action.person_id)
    if person is None:
        return "skipped: the person is gone"
    if action.kind.respects_quiet_hours and turn.timings.quiet_hours is not None:
        morning = turn.timings.quiet_hours.next_allowed(turn.now, person.timezone)
        if morning > turn.now:
            return morning
    if action.kind is ActionKind.DIGEST:
        return await _digest(turn, person, action)
    ticket = await turn.uow.tickets.get(action.ticket_id) if action.ticket_id else None
    if ticket is None:
        return "skipped: no ticket"
    if action.kind is ActionKind.REMIND_EXPERT:
        return await _remind(turn, person, ticket)
    if action.kind is ActionKind.REASSIGN:
        return await _reassign(turn, person, ticket)
    return await _follow_up(turn, person, ticket)


def _still_with(ticket: Ticket, expert: Person) -> bool:
    return ticket.status is TicketStatus.ASSIGNED and ticket.assignee_id == expert.id


async def _remind(turn: Turn, expert: Person, ticket: Ticket) -> str:
    if not _still_with(ticket, expert):
        return f"not needed: ticket is {ticket.status}"
    assert expert.id is not None and ticket.id is not None
    ticket.remind(expert.id, turn.now)
    await turn.uow.tickets.save(ticket)
    since = ticket.last_assigned_at or ticket.created_at
    heading = Text(Msg.EXPERT_REMINDER, {"ticket": ticket.id, "since": local_time(since, expert)})
    await turn.notify(expert, expert_notice(ticket, heading))
    return "sent"


async def _reassign(turn: Turn, expert: Person, ticket: Ticket) -> str:
    # Imported here: the ticket services import this module to schedule.
    from helpdesk.services.tickets import route

    if not _still_with(ticket, expert):
        return f"not needed: ticket is {ticket.status}"
    waited = format_duration(turn.timings.reassign_after)
    successor = await route(turn, ticket, why=f"no answer within {waited}")
    told = Msg.EXPERT_TICKET_MOVED if successor is not None else Msg.EXPERT_TICKET_RELEASED
    await turn.notify(expert, Reply.say(told, ticket=ticket.id or 0, waited=waited))
    return f"reassigned to {successor.id}" if successor else "released: nobody left"


async def _follow_up(turn: Turn, official: Person, ticket: Ticket) -> str:
    if ticket.status not in (TicketStatus.ANSWERED, TicketStatus.CLOSED):
        return f"not needed: ticket is {ticket.status}"
    if ticket.followed_up_since_answer:
        return "not needed: already followed up"
    assert ticket.id is not None
    ticket.asked_to_follow_up(turn.now)
    await turn.uow.tickets.save(ticket)
    number = ticket.id
    await turn.notify(
        official,
        Reply(
            parts=(Text(Msg.FOLLOWUP_QUESTION, {"ticket": number}), Quote(ticket.text)),
            buttons=(
                Button(Text(Msg.BUTTON_SOLVED), f"/followup {number} {FollowUp.SOLVED}"),
                Button(Text(Msg.BUTTON_PARTLY), f"/followup {number} {FollowUp.PARTLY}"),
                Button(Text(Msg.BUTTON_MORE_HELP), f"/followup {number} {FollowUp.MORE_HELP}"),
            ),
            ref=f"ticket:{number}",
        ),
    )
    return "sent"


async def _digest(turn: Turn, staff: Person, action: ScheduledAction) -> str:
    timings = turn.timings
    start = action.due_at - timings.digest_every  # its week, even when it went out late
    recent = await turn.uow.tickets.changed_since(start)
    active = await turn.uow.tickets.find(
        statuses=[s for s in TicketStatus if s.is_active], limit=10_000
    )
    new = [t for t in recent if t.created_at >= start]
    answered = [t for t in recent if (t.first_answered_at or start) > start]
    waits = [
        (t.first_answered_at - t.created_at).total_seconds()
        for t in answered
        if t.first_answered_at
    ]
    rated = [t for t in recent if t.rating is not None]
    scores = [t.score for t in recent if t.score is not None]
    none = Text(Msg.DIGEST_NONE)
    parts: list[Text | Quote] = [
        Text(
            Msg.DIGEST,
            {
                "days": max(1, round(timings.digest_every.total_seconds() / 86400)),
                "new": len(new),
                "answered": len(answered),
                "overdue": len(overdue(active, turn.now, timings)),
                "median": describe_duration(timedelta(seconds=round(statistics.median(waits))))
                if waits
                else none,
                "helpful": sum(1 for t in rated if t.rating and t.rating.value == "helpful"),
                "not_helpful": sum(1 for t in rated if t.rating and t.rating.value != "helpful"),
                "score": f"{statistics.mean(scores):.1f}" if scores else none,
            },
        )
    ]
    groups = _most_escalated([t.text for t in new])
    if groups:
        parts.append(Text(Msg.DIGEST_TOP))
        parts.extend(
            Text(Msg.DIGEST_TOP_LINE, {"count": count, "text": Quote(text)})
            for count, text in groups
        )
    quoted = tuple(dict.fromkeys(t.official_id for t in new)) if groups else ()
    await turn.notify(staff, Reply(tuple(parts), mentions=quoted))
    nxt = action.due_at + timings.digest_every
    await turn.uow.schedule.add(
        ScheduledAction(
            kind=ActionKind.DIGEST,
            due_at=nxt if nxt > turn.now else turn.now + timings.digest_every,
            person_id=action.person_id,
            created_at=turn.now,
        )
    )
    return "sent"


def _most_escalated(texts: Sequence[str]) -> list[tuple[int, str]]:
    """Similar questions grouped (greedily, by words in common, across word order),
    biggest groups first; a group is shown by its first question."""
    groups: list[list[str]] = []
    for text in texts:
        for group in groups:
            if fuzz.token_set_ratio(text.casefold(), group[0].casefold()) >= _SAME_QUESTION:
                group.append(text)
                break
        else:
            groups.append([text])
    ranked = sorted(groups, key=len, reverse=True)[:_TOP_ESCALATED]
    return [(len(g), _preview(g[0])) for g in ranked]


def _preview(text: str, length: int = 100) -> str:
    line = " ".join(text.split())
    return line if len(line) <= length else line[: length - 1].rstrip() + "…"
