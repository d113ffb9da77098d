"""Tickets: opening one, routing it to an expert, relaying the answer, and the commands on them."""

import logging
from datetime import UTC, date, datetime, time, timedelta

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.errors import DomainError
from helpdesk.domain.people import Person
from helpdesk.domain.questions import AskedQuestion, Feedback
from helpdesk.domain.routing import route_ticket
from helpdesk.domain.schedule import parse_duration, zone
from helpdesk.domain.tickets import FollowUp, Ticket, TicketStatus
from helpdesk.i18n import Button, LanguageName, Msg, Param, Quote, Reply, Text
from helpdesk.services.audit import record
from helpdesk.services.lifecycle import (
    ACTION_NAMES,
    after_answer,
    after_assignment,
    cancel_pending,
    local_time,
)
from helpdesk.services.metrics import count_escalation, observe_first_answer
from helpdesk.services.notices import expert_notice
from helpdesk.services.turn import Turn

__all__ = [
    "AssignmentRefused",
    "answer_ticket",
    "assign_by_staff",
    "can_view",
    "cancel_ticket",
    "come_back",
    "decline_ticket",
    "follow_up_ticket",
    "list_tickets",
    "open_ticket",
    "rate_ticket",
    "route",
    "score_ticket",
    "set_away",
]

log = logging.getLogger(__name__)

_STATUS_TEXT = {
    TicketStatus.OPEN: Msg.STATUS_OPEN,
    TicketStatus.ASSIGNED: Msg.STATUS_ASSIGNED,
    TicketStatus.ANSWERED: Msg.STATUS_ANSWERED,
    TicketStatus.CLOSED: Msg.STATUS_CLOSED,
    TicketStatus.DECLINED: Msg.STATUS_DECLINED,
    TicketStatus.REOPENED: Msg.STATUS_REOPENED,
    TicketStatus.CANCELLED: Msg.STATUS_CANCELLED,
}
_LIST_LIMIT = 20
_PREVIEW = 80


def can_view(person: Person, ticket: Ticket) -> bool:
    """Staff see every ticket; experts the ones routed to them; officials their own."""
    if person.is_staff:
        return True
    return person.id in (ticket.official_id, ticket.assignee_id, ticket.answered_by)


def place_of(person: Person) -> Param:
    place = ", ".join(p for p in (person.city, person.country) if p)
    return place or Text(Msg.PLACE_UNKNOWN)


def status_text(ticket: Ticket) -> Text:
    return Text(_STATUS_TEXT[ticket.status])


async def open_ticket(
    turn: Turn,
    text: str,
    *,
    language: str | None,
    topics: tuple[str, ...] = (),
    question: AskedQuestion | None = None,
) -> Ticket:
    """Create a ticket for the sender's question and route it."""
    ticket = Ticket.create(
        turn.sender_id,
        text,
        turn.now,
        language=language,
        topics=topics,
        question_id=question.id if question else None,
    )
    await turn.uow.tickets.add(ticket)
    count_escalation()
    if question is not None:
        question.ticket_id = ticket.id
        await turn.uow.questions.save(question)
    await route(turn, ticket)
    return ticket


async def route(turn: Turn, ticket: Ticket, why: str = "") -> Person | None:
    """Give a ticket to the best expert and tell them; tell staff if nobody can take it.

    A ticket still assigned (its expert did not answer in time) goes to someone else:
    never back to its current expert, nor to one who declined it or timed out on it."""
    official = await turn.uow.people.get(ticket.official_id)
    assert official is not None and official.id is not None
    current = {ticket.assignee_id} if ticket.assignee_id is not None else set()
    decision = route_ticket(
        official=official,
        language=ticket.language,
        topics=ticket.topics,
        experts=await turn.uow.people.expert_loads(),
        now=turn.now,
        exclude=ticket.experts_tried | {official.id} | current,
    )
    expert = decision.expert
    reason = f"{why}; {decision.reason}" if why else decision.reason
    if expert is None:
        if ticket.status is not TicketStatus.OPEN:
            ticket.release(turn.now, reason=reason)
        await turn.uow.tickets.save(ticket)
        await cancel_pending(turn, ticket, "nobody available")
        log.info("ticket %s: no expert available (%s)", ticket.id, decision.reason)
        await turn.notify_staff(
            Reply.say(Msg.STAFF_NO_EXPERT, ticket=_id(ticket), reason=decision.reason)
        )
        return None
    assert expert.id is not None
    ticket.assign(expert.id, turn.now, reason=reason)
    await _hand_over(turn, ticket, expert, official)
    log.info("ticket %s routed to expert %s", ticket.id, expert.id)
    return expert


async def _hand_over(turn: Turn, ticket: Ticket, expert: Person, official: Person) -> None:
    """After ``ticket.assign``: store it, start the expert's clock, tell them."""
    assert expert.id is not None
    await turn.uow.tickets.save(ticket)
    await after_assignment(turn, ticket, expert.id)
    await turn.notify(expert, _for_expert(ticket, official))


class AssignmentRefused(Exception):
    """Staff asked for an assignment that cannot be made (the reason is the message)."""


async def assign_by_staff(turn: Turn, number: int, expert_id: int, who: str) -> Person:
    """Staff give a ticket to the expert they choose, over routing; audited."""
    ticket = await turn.uow.tickets.get(number)
    if ticket is None:
        raise AssignmentRefused(f"There is no ticket #{number}.")
    expert = await turn.uow.people.get(expert_id)
    if expert is None or not expert.is_expert or expert.erased_at is not None:
        raise AssignmentRefused(f"Person #{expert_id} is not an expert.")
    if expert_id == ticket.official_id:
        # An official who became an expert since: never the expert of their own question.
        raise AssignmentRefused(f"Person #{expert_id} asked this question: choose another expert.")
    official = await turn.uow.people.get(ticket.official_id)
    assert official is not None
    try:
        ticket.assign(expert_id, turn.now, reason=f"assigned by {who}")
    except DomainError as error:
        raise AssignmentRefused(f"Ticket #{number} cannot be assigned now: {error}") from None
    await _hand_over(turn, ticket, expert, official)
    await record(
        turn.uow, turn.now, who, AuditAction.ASSIGN, f"ticket:{number}", f"person:{expert_id}"
    )
    return expert


def _for_expert(ticket: Ticket, official: Person) -> Reply:
    return expert_notice(
        ticket,
        Text(
            Msg.EXPERT_NEW_TICKET,
            {
                "ticket": _id(ticket),
                "place": place_of(official),
                "language": LanguageName(ticket.language)
                if ticket.language
                else Text(Msg.LANGUAGE_UNKNOWN),
            },
        ),
    )


async def _ticket_for(turn: Turn, number: int) -> Ticket | None:
    """The ticket if the sender may see it; otherwise they are told there is none for them."""
    ticket = await turn.uow.tickets.get(number)
    if ticket is None or not can_view(turn.sender, ticket):
        await turn.reply(Reply.say(Msg.TICKET_NOT_YOURS, ticket=number))
        return None
    return ticket


async def _officials_ticket(turn: Turn, number: int) -> Ticket | None:
    """The ticket if the sender is the official who asked; otherwise they are told."""
    ticket = await _ticket_for(turn, number)
    if ticket is not None and ticket.official_id != turn.sender_id:
        await turn.reply(Reply.say(Msg.TICKET_NOT_YOURS, ticket=number))
        return None
    return ticket


async def _wrong_state(turn: Turn, ticket: Ticket) -> None:
    await turn.reply(
        Reply.say(Msg.TICKET_WRONG_STATE, ticket=_id(ticket), status=status_text(ticket))
    )


async def answer_ticket(turn: Turn, number: int, text: str) -> None:
    """An expert (or staff) answers; the answer goes to the official with rating buttons."""
    ticket = await _ticket_for(turn, number)
    if ticket is None:
        return
    sender = turn.sender
    if sender.is_staff and ticket.is_waiting:
        ticket.assign(turn.sender_id, turn.now, actor_id=turn.sender_id, reason="taken by staff")
    if ticket.status is not TicketStatus.ASSIGNED:
        await _wrong_state(turn, ticket)
        return
    if ticket.assignee_id != turn.sender_id and not sender.is_staff:
        await turn.reply(Reply.say(Msg.TICKET_NOT_YOURS, ticket=number))
        return
    first = ticket.first_answered_at is None
    ticket.answer_with(turn.sender_id, text, turn.now)
    await turn.uow.tickets.save(ticket)
    if first:
        observe_first_answer((turn.now - ticket.created_at).total_seconds())
    await after_answer(turn, ticket)
    official = await turn.uow.people.get(ticket.official_id)
    assert official is not None
    await turn.notify(
        official,
        Reply(
            parts=(
                Text(Msg.OFFICIAL_ANSWER_RECEIVED, {"ticket": number}),
                Quote(text),
                Text(Msg.OFFICIAL_ANSWER_FROM, {"name": sender.name, "place": place_of(sender)}),
                Text(Msg.ANSWER_DID_IT_HELP),
            ),
            buttons=(
                Button(Text(Msg.BUTTON_HELPFUL), f"/rate {number} helpful"),
                Button(Text(Msg.BUTTON_NOT_HELPFUL), f"/rate {number} not_helpful"),
            ),
            ref=f"ticket:{number}",
            mentions=(turn.sender_id,),
        ),
    )
    await turn.reply(Reply.say(Msg.EXPERT_ANSWER_SENT, ticket=number))


async def decline_ticket(turn: Turn, number: int) -> None:
    """The assignee cannot take it: it goes to the next expert at once."""
    ticket = await _ticket_for(turn, number)
    if ticket is None:
        return
    if ticket.assignee_id != turn.sender_id or ticket.status is not TicketStatus.ASSIGNED:
        await _wrong_state(turn, ticket)
        return
    ticket.decline(turn.sender_id, turn.now)
    await turn.uow.tickets.save(ticket)
    await turn.reply(Reply.say(Msg.EXPERT_DECLINED, ticket=number))
    await route(turn, ticket)


async def rate_ticket(turn: Turn, number: int, rating: Feedback) -> None:
    ticket = await _officials_ticket(turn, number)
    if ticket is None:
        return
    try:
        ticket.rate(rating, turn.now)
    except DomainError:
        await _wrong_state(turn, ticket)
        return
    await turn.uow.tickets.save(ticket)
    key = Msg.RATE_HELPFUL if rating is Feedback.HELPFUL else Msg.RATE_NOT_HELPFUL
    await turn.reply(Reply.say(key, ticket=number))


async def cancel_ticket(turn: Turn, number: int) -> None:
    """The official withdraws a question (staff may too); the expert is told."""
    ticket = await _ticket_for(turn, number)
    if ticket is None:
        return
    if ticket.official_id != turn.sender_id and not turn.sender.is_staff:
        await turn.reply(Reply.say(Msg.TICKET_NOT_YOURS, ticket=number))
        return
    if not ticket.status.is_active:
        await _wrong_state(turn, ticket)
        return
    assignee = ticket.assignee_id
    ticket.cancel(turn.now, actor_id=turn.sender_id)
    await turn.uow.tickets.save(ticket)
    await cancel_pending(turn, ticket, "cancelled")
    if assignee is not None:
        expert = await turn.uow.people.get(assignee)
        if expert is not None:
            await turn.notify(expert, Reply.say(Msg.EXPERT_TICKET_WITHDRAWN, ticket=number))
    await turn.reply(Reply.say(Msg.CANCEL_DONE, ticket=number))


async def score_ticket(turn: Turn, number: int, score: int, comment: str | None) -> None:
    """A 1-5 rating, with an optional comment, by the ticket's official."""
    ticket = await _officials_ticket(turn, number)
    if ticket is None:
        return
    if ticket.scored_since_answer:
        await turn.reply(Reply.say(Msg.RATE_ALREADY, ticket=number, score=ticket.score or 0))
        return
    try:
        ticket.score_with(score, turn.now, comment)
    except DomainError:
        await _wrong_state(turn, ticket)
        return
    await turn.uow.tickets.save(ticket)
    await turn.reply(Reply.say(Msg.RATE_SCORE_THANKS, ticket=number, score=score))


async def follow_up_ticket(turn: Turn, number: int, outcome: FollowUp) -> None:
    """The official's answer to the follow-up: thanks and a 1-5 rating, or, when they need
    more help, the ticket goes back to the expert who answered it."""
    ticket = await _officials_ticket(turn, number)
    if ticket is None:
        return
    try:
        ticket.record_follow_up(outcome, turn.now)
    except DomainError:
        await _wrong_state(turn, ticket)
        return
    if outcome is not FollowUp.MORE_HELP:
        await turn.uow.tickets.save(ticket)
        await turn.reply(
            Reply(
                parts=(Text(Msg.FOLLOWUP_THANKS, {"ticket": number}),),
                buttons=tuple(Button(Quote(str(n)), f"/rate {number} {n}") for n in range(1, 6)),
                ref=f"ticket:{number}",
            )
        )
        return
    ticket.reopen(turn.now, actor_id=turn.sender_id, reason="the official needs more help")
    expert = await turn.uow.people.get(ticket.answered_by) if ticket.answered_by else None
    if expert is not None and expert.id is not None and expert.is_available(turn.now):
        ticket.assign(expert.id, turn.now, reason="reopened: back to the expert who answered")
        await turn.uow.tickets.save(ticket)
        await after_assignment(turn, ticket, expert.id)
        official = turn.sender
        await turn.notify(
            expert, expert_notice(ticket, Text(Msg.EXPERT_TICKET_REOPENED, {"ticket": number}))
        )
        log.info("ticket %s reopened for expert %s (official %s)", number, expert.id, official.id)
    else:
        await turn.uow.tickets.save(ticket)
        await route(turn, ticket, why="reopened; the expert who answered is away")
    await turn.reply(Reply.say(Msg.FOLLOWUP_REOPENED, ticket=number))


async def set_away(turn: Turn, until: str) -> None:
    """``/away 2026-12-01`` (back that morning, their time) or ``/away 10d``."""
    person = turn.sender
    text = until.strip()
    back: datetime | None = None
    try:
        day = date.fromisoformat(text)
        back = datetime.combine(day, time(8, 0), tzinfo=zone(person.timezone)).astimezone(UTC)
    except ValueError:
        try:
            span = parse_duration(text)
        except ValueError:
            span = timedelta()
        if span > timedelta():
            back = turn.now + span
    if back is None or back <= turn.now:
        await turn.reply(Reply.say(Msg.AWAY_USAGE))
        return
    person.away_until = back
    await turn.uow.people.save(person)
    await turn.reply(Reply.say(Msg.AWAY_SET, until=local_time(back, person)))


async def come_back(turn: Turn) -> None:
    person = turn.sender
    person.away_until = None
    await turn.uow.people.save(person)
    await turn.reply(Reply.say(Msg.BACK_DONE))


async def list_tickets(turn: Turn) -> None:
    """The sender's tickets: their own, those routed to them, or (staff) all that need attention."""
    sender = turn.sender
    tickets = turn.uow.tickets
    if sender.is_staff:
        active = [s for s in TicketStatus if s.is_active]
        found, header = await tickets.find(statuses=active, limit=_LIST_LIMIT), Msg.TICKETS_ALL
    elif sender.is_expert:
        routed = await tickets.find(assignee_id=turn.sender_id, limit=_LIST_LIMIT)
        own = await tickets.find(official_id=turn.sender_id, limit=_LIST_LIMIT)
        found = sorted({t.id: t for t in [*routed, *own]}.values(), key=_id, reverse=True)
        header = Msg.TICKETS_ASSIGNED if routed else Msg.TICKETS_OWN
    else:
        found = await tickets.find(official_id=turn.sender_id, limit=_LIST_LIMIT)
        header = Msg.TICKETS_OWN
    if not found:
        await turn.reply(Reply.say(Msg.TICKETS_NONE))
        return
    lines: list[Text] = []
    for t in found:
        lines.append(
            Text(
                Msg.TICKETS_LINE,
                {"ticket": _id(t), "status": status_text(t), "text": Quote(_preview(t.text))},
            )
        )
        upcoming = await turn.uow.schedule.pending(ticket_id=_id(t))
        if upcoming and t.status is not TicketStatus.CANCELLED:
            soonest = upcoming[0]
            lines.append(
                Text(
                    Msg.TICKETS_NEXT,
                    {
                        "action": Text(ACTION_NAMES[soonest.kind]),
                        "when": local_time(soonest.due_at, sender),
                    },
                )
            )
    shown = tuple(dict.fromkeys(t.official_id for t in found))
    await turn.reply(
        Reply((Text(header, {"count": len(found), "lines": tuple(lines)}),), mentions=shown)
    )


def _preview(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _PREVIEW else line[: _PREVIEW - 1].rstrip() + "…"


def _id(ticket: Ticket) -> int:
    assert ticket.id is not None
    return ticket.id
