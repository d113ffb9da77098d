"""Tickets: opening one, routing it to an expert, and what experts, officials and staff do
with it. Use cases: plain arguments in, the ticket (or the expert) out; a refusal is a
``Refused`` saying why. Whoever else must hear of a change (the expert of a new ticket,
the official of an answer, staff when nobody can take one) is written to here, so that
the chat, the command line and the web console all do the same."""

import logging
from dataclasses import dataclass

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.errors import DomainError
from helpdesk.domain.people import Person
from helpdesk.domain.questions import AskedQuestion, Feedback
from helpdesk.domain.routing import route_ticket
from helpdesk.domain.tickets import FollowUp, Ticket, TicketStatus
from helpdesk.i18n import Msg, Reply, Text
from helpdesk.services.audit import record
from helpdesk.services.context import Context
from helpdesk.services.follow_through import after_answer, after_assignment, cancel_pending
from helpdesk.services.messenger import notify, notify_staff
from helpdesk.services.metrics import count_escalation, observe_first_answer
from helpdesk.services.notices import answer_notice, expert_notice, new_ticket_notice
from helpdesk.services.refusals import Refused

__all__ = [
    "STATUS_TEXT",
    "TicketList",
    "answer_ticket",
    "assign_by_staff",
    "can_view",
    "cancel_ticket",
    "decline_ticket",
    "follow_up_ticket",
    "open_ticket",
    "rate_ticket",
    "route",
    "score_ticket",
    "tickets_of",
]

log = logging.getLogger(__name__)

STATUS_TEXT = {
    TicketStatus.OPEN: Msg.STATUS_OPEN,
    TicketStatus.ASSIGNED: Msg.STATUS_ASSIGNED,
    TicketStatus.ANSWERED: Msg.STATUS_ANSWERED,
    TicketStatus.CLOSED: Msg.STATUS_CLOSED,
    TicketStatus.DECLINED: Msg.STATUS_DECLINED,
    TicketStatus.REOPENED: Msg.STATUS_REOPENED,
    TicketStatus.CANCELLED: Msg.STATUS_CANCELLED,
}
_LIST_LIMIT = 20


def can_view(person: Person, ticket: Ticket) -> bool:
    """Staff see every ticket; experts the ones routed to them; officials their own."""
    if person.is_staff:
        return True
    return person.id in (ticket.official_id, ticket.assignee_id, ticket.answered_by)


def _wrong_state(ticket: Ticket) -> Refused:
    return Refused(
        Msg.TICKET_WRONG_STATE, ticket=_id(ticket), status=Text(STATUS_TEXT[ticket.status])
    )


async def _ticket_for(ctx: Context, number: int, person: Person) -> Ticket:
    """The ticket if ``person`` may see it; otherwise, as if there were none."""
    ticket = await ctx.uow.tickets.get(number)
    if ticket is None or not can_view(person, ticket):
        raise Refused(Msg.TICKET_NOT_YOURS, ticket=number)
    return ticket


async def _officials_ticket(ctx: Context, number: int, person: Person) -> Ticket:
    """The ticket if ``person`` is the official who asked it."""
    ticket = await _ticket_for(ctx, number, person)
    if ticket.official_id != person.id:
        raise Refused(Msg.TICKET_NOT_YOURS, ticket=number)
    return ticket


async def open_ticket(
    ctx: Context,
    official: Person,
    text: str,
    *,
    language: str | None,
    topics: tuple[str, ...] = (),
    question: AskedQuestion | None = None,
) -> Ticket:
    """A ticket for the official's question, routed to an expert if one can take it."""
    assert official.id is not None
    ticket = Ticket.create(
        official.id,
        text,
        ctx.now,
        language=language,
        topics=topics,
        question_id=question.id if question else None,
    )
    await ctx.uow.tickets.add(ticket)
    count_escalation()
    if question is not None:
        question.ticket_id = ticket.id
        await ctx.uow.questions.save(question)
    await route(ctx, ticket, official=official)
    return ticket


async def route(
    ctx: Context, ticket: Ticket, why: str = "", *, official: Person | None = None
) -> Person | None:
    """Give a ticket to the best expert and tell them; tell staff if nobody can take it.
    ``official`` is the ticket's, when the caller holds them already.

    A ticket still assigned (its expert did not answer in time) goes to someone else:
    never back to its current expert, nor to one who declined it or timed out on it."""
    if official is None or official.id != ticket.official_id:
        official = await ctx.uow.people.get(ticket.official_id)
    assert official is not None and official.id is not None
    current = {ticket.assignee_id} if ticket.assignee_id is not None else set()
    decision = route_ticket(
        official=official,
        language=ticket.language,
        topics=ticket.topics,
        experts=await ctx.uow.people.expert_loads(),
        now=ctx.now,
        exclude=ticket.experts_tried | {official.id} | current,
    )
    expert = decision.expert
    reason = f"{why}; {decision.reason}" if why else decision.reason
    if expert is None:
        if ticket.status is not TicketStatus.OPEN:
            ticket.release(ctx.now, reason=reason)
        await ctx.uow.tickets.save(ticket)
        await cancel_pending(ctx, ticket, "nobody available")
        log.info("ticket %s: no expert available (%s)", ticket.id, decision.reason)
        await notify_staff(
            ctx.uow,
            Reply.say(Msg.STAFF_NO_EXPERT, ticket=_id(ticket), reason=decision.reason),
            ctx.now,
        )
        return None
    assert expert.id is not None
    ticket.assign(expert.id, ctx.now, reason=reason)
    await _hand_over(ctx, ticket, expert, official)
    log.info("ticket %s routed to expert %s", ticket.id, expert.id)
    return expert


async def _hand_over(ctx: Context, ticket: Ticket, expert: Person, official: Person) -> None:
    """After ``ticket.assign``: store it, start the expert's clock, tell them."""
    assert expert.id is not None
    await ctx.uow.tickets.save(ticket)
    await after_assignment(ctx, ticket, expert.id)
    await notify(ctx.uow, expert, new_ticket_notice(ticket, official), ctx.now)


async def assign_by_staff(ctx: Context, number: int, expert_id: int, who: str) -> Person:
    """Staff give a ticket to the expert they choose, over routing; audited."""
    ticket = await ctx.uow.tickets.get(number)
    if ticket is None:
        raise Refused(Msg.ASSIGN_NO_TICKET, ticket=number)
    expert = await ctx.uow.people.get(expert_id)
    if expert is None or not expert.is_expert or expert.erased_at is not None:
        raise Refused(Msg.ASSIGN_NOT_EXPERT, person=expert_id)
    if expert_id == ticket.official_id:
        # An official who became an expert since: never the expert of their own question.
        raise Refused(Msg.ASSIGN_OWN_QUESTION, person=expert_id)
    official = await ctx.uow.people.get(ticket.official_id)
    assert official is not None
    try:
        ticket.assign(expert_id, ctx.now, reason=f"assigned by {who}")
    except DomainError:
        raise _wrong_state(ticket) from None
    await _hand_over(ctx, ticket, expert, official)
    await record(
        ctx.uow, ctx.now, who, AuditAction.ASSIGN, f"ticket:{number}", f"person:{expert_id}"
    )
    return expert


async def answer_ticket(ctx: Context, number: int, by: Person, text: str) -> Ticket:
    """An expert (or staff) answers; the answer goes to the official with rating buttons."""
    assert by.id is not None
    ticket = await _ticket_for(ctx, number, by)
    if by.is_staff and ticket.is_waiting:
        ticket.assign(by.id, ctx.now, actor_id=by.id, reason="taken by staff")
    if ticket.status is not TicketStatus.ASSIGNED:
        raise _wrong_state(ticket)
    if ticket.assignee_id != by.id and not by.is_staff:
        raise Refused(Msg.TICKET_NOT_YOURS, ticket=number)
    first = ticket.first_answered_at is None
    ticket.answer_with(by.id, text, ctx.now)
    await ctx.uow.tickets.save(ticket)
    if first:
        observe_first_answer((ctx.now - ticket.created_at).total_seconds())
    await after_answer(ctx, ticket)
    official = await ctx.uow.people.get(ticket.official_id)
    assert official is not None
    await notify(ctx.uow, official, answer_notice(ticket, by, text), ctx.now)
    return ticket


async def decline_ticket(ctx: Context, number: int, by: Person) -> Ticket:
    """The assignee cannot take it: it goes to the next expert at once."""
    assert by.id is not None
    ticket = await _ticket_for(ctx, number, by)
    if ticket.assignee_id != by.id or ticket.status is not TicketStatus.ASSIGNED:
        raise _wrong_state(ticket)
    ticket.decline(by.id, ctx.now)
    await ctx.uow.tickets.save(ticket)
    await route(ctx, ticket)
    return ticket


async def rate_ticket(ctx: Context, number: int, by: Person, rating: Feedback) -> Ticket:
    """The official rates the answer (helpful or not); that closes the ticket."""
    ticket = await _officials_ticket(ctx, number, by)
    try:
        ticket.rate(rating, ctx.now)
    except DomainError:
        raise _wrong_state(ticket) from None
    await ctx.uow.tickets.save(ticket)
    return ticket


async def score_ticket(
    ctx: Context, number: int, by: Person, score: int, comment: str | None
) -> Ticket:
    """A 1-5 score, with an optional comment, by the ticket's official: once an answer."""
    ticket = await _officials_ticket(ctx, number, by)
    if ticket.scored_since_answer:
        raise Refused(Msg.RATE_ALREADY, ticket=number, score=ticket.score or 0)
    try:
        ticket.score_with(score, ctx.now, comment)
    except DomainError:
        raise _wrong_state(ticket) from None
    await ctx.uow.tickets.save(ticket)
    return ticket


async def cancel_ticket(ctx: Context, number: int, by: Person) -> Ticket:
    """The official withdraws a question (staff may too); the expert is told."""
    ticket = await _ticket_for(ctx, number, by)
    if ticket.official_id != by.id and not by.is_staff:
        raise Refused(Msg.TICKET_NOT_YOURS, ticket=number)
    if not ticket.status.is_active:
        raise _wrong_state(ticket)
    assignee = ticket.assignee_id
    ticket.cancel(ctx.now, actor_id=by.id)
    await ctx.uow.tickets.save(ticket)
    await cancel_pending(ctx, ticket, "cancelled")
    if assignee is not None:
        expert = await ctx.uow.people.get(assignee)
        if expert is not None:
            notice = Reply.say(Msg.EXPERT_TICKET_WITHDRAWN, ticket=number)
            await notify(ctx.uow, expert, notice, ctx.now)
    return ticket


async def follow_up_ticket(ctx: Context, number: int, by: Person, outcome: FollowUp) -> Ticket:
    """The official's answer to the follow-up; when they need more help, the ticket goes
    back to the expert who answered it (or to routing, if that expert is away)."""
    ticket = await _officials_ticket(ctx, number, by)
    try:
        ticket.record_follow_up(outcome, ctx.now)
    except DomainError:
        raise _wrong_state(ticket) from None
    if outcome is not FollowUp.MORE_HELP:
        await ctx.uow.tickets.save(ticket)
        return ticket
    ticket.reopen(ctx.now, actor_id=by.id, reason="the official needs more help")
    expert = await ctx.uow.people.get(ticket.answered_by) if ticket.answered_by else None
    if expert is not None and expert.id is not None and expert.is_available(ctx.now):
        ticket.assign(expert.id, ctx.now, reason="reopened: back to the expert who answered")
        await ctx.uow.tickets.save(ticket)
        await after_assignment(ctx, ticket, expert.id)
        heading = Text(Msg.EXPERT_TICKET_REOPENED, {"ticket": number})
        await notify(ctx.uow, expert, expert_notice(ticket, heading), ctx.now)
        log.info("ticket %s reopened for expert %s (official %s)", number, expert.id, by.id)
    else:
        await ctx.uow.tickets.save(ticket)
        await route(ctx, ticket, why="reopened; the expert who answered is away")
    return ticket


@dataclass(frozen=True)
class TicketList:
    """The tickets a person sees, and which kind of list it is."""

    header: Msg
    tickets: list[Ticket]


async def tickets_of(ctx: Context, person: Person) -> TicketList:
    """Their own tickets, those routed to them, or (staff) all that need attention."""
    tickets = ctx.uow.tickets
    if person.is_staff:
        active = [s for s in TicketStatus if s.is_active]
        return TicketList(Msg.TICKETS_ALL, await tickets.find(statuses=active, limit=_LIST_LIMIT))
    if person.is_expert:
        routed = await tickets.find(assignee_id=person.id, limit=_LIST_LIMIT)
        own = await tickets.find(official_id=person.id, limit=_LIST_LIMIT)
        found = sorted({t.id: t for t in [*routed, *own]}.values(), key=_id, reverse=True)
        return TicketList(Msg.TICKETS_ASSIGNED if routed else Msg.TICKETS_OWN, found)
    return TicketList(Msg.TICKETS_OWN, await tickets.find(official_id=person.id, limit=_LIST_LIMIT))


def _id(ticket: Ticket) -> int:
    assert ticket.id is not None
    return ticket.id
