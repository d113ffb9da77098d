"""Tickets in a chat: /answer (or a reply to the notification), /decline, /cancel,
/rate, /followup, /tickets, and the buttons that send them."""

from helpdesk.domain.actions import AnswerFollowUp, DeclineTicket, RateTicket, ScoreTicket, parse
from helpdesk.domain.questions import Feedback
from helpdesk.domain.text import preview
from helpdesk.domain.tickets import FollowUp, TicketStatus
from helpdesk.i18n import Button, Msg, Quote, Reply, Text
from helpdesk.services.chat.resources import Resources
from helpdesk.services.commands import Command, parse_number
from helpdesk.services.follow_through import ACTION_NAMES, local_time
from helpdesk.services.input import check_question, too_long
from helpdesk.services.notices import ref_of
from helpdesk.services.refusals import Refused
from helpdesk.services.tickets import (
    STATUS_TEXT,
    answer_ticket,
    cancel_ticket,
    decline_ticket,
    follow_up_ticket,
    rate_ticket,
    score_ticket,
    tickets_of,
)
from helpdesk.services.turn import Turn

__all__ = [
    "on_answer",
    "on_cancel",
    "on_decline",
    "on_follow_up",
    "on_rate",
    "on_tickets",
    "send_answer",
]

_PREVIEW = 80


async def send_answer(turn: Turn, number: int, text: str) -> None:
    """The sender answers ticket ``number``: it goes to the official."""
    try:
        await answer_ticket(turn.context, number, turn.sender, text)
    except Refused as refused:
        await turn.refuse(refused)
        return
    await turn.reply(Reply.say(Msg.EXPERT_ANSWER_SENT, ticket=number))


async def on_answer(turn: Turn, command: Command, resources: Resources) -> None:
    """``/answer N TEXT``."""
    parts = command.split(2)
    number = parse_number(parts[0]) if parts else None
    if number is None or len(parts) < 2:
        await turn.reply(Reply.say(Msg.ANSWER_USAGE))
        return
    problem = check_question(parts[1], parts[1], resources.limits)
    if problem is not None:
        await turn.reply(problem)
        return
    await send_answer(turn, number, parts[1])


async def on_decline(turn: Turn, command: Command, resources: Resources) -> None:
    action = parse(command.line)
    if not isinstance(action, DeclineTicket):
        await turn.reply(Reply.say(Msg.DECLINE_USAGE))
        return
    try:
        await decline_ticket(turn.context, action.ticket, turn.sender)
    except Refused as refused:
        await turn.refuse(refused)
        return
    await turn.reply(Reply.say(Msg.EXPERT_DECLINED, ticket=action.ticket))


async def on_cancel(turn: Turn, command: Command, resources: Resources) -> None:
    number = parse_number(command.args)
    if number is None:
        await turn.reply(Reply.say(Msg.CANCEL_USAGE))
        return
    try:
        await cancel_ticket(turn.context, number, turn.sender)
    except Refused as refused:
        await turn.refuse(refused)
        return
    await turn.reply(Reply.say(Msg.CANCEL_DONE, ticket=number))


async def on_rate(turn: Turn, command: Command, resources: Resources) -> None:
    """``/rate N helpful|not_helpful`` (the buttons under an answer) or
    ``/rate N 1-5 [comment]``."""
    parts = command.split(3)
    action = parse(" ".join(["/rate", *parts[:2]]))
    comment = parts[2] if len(parts) == 3 else None
    try:
        if isinstance(action, ScoreTicket):
            if comment is not None and len(comment) > resources.limits.max_comment:
                await turn.reply(too_long(comment, resources.limits.max_comment))
                return
            await score_ticket(turn.context, action.ticket, turn.sender, action.score, comment)
            await turn.reply(
                Reply.say(Msg.RATE_SCORE_THANKS, ticket=action.ticket, score=action.score)
            )
        elif isinstance(action, RateTicket) and comment is None:
            await rate_ticket(turn.context, action.ticket, turn.sender, action.rating)
            helpful = action.rating is Feedback.HELPFUL
            key = Msg.RATE_HELPFUL if helpful else Msg.RATE_NOT_HELPFUL
            await turn.reply(Reply.say(key, ticket=action.ticket))
        else:
            await turn.reply(Reply.say(Msg.RATE_USAGE))
    except Refused as refused:
        await turn.refuse(refused)


async def on_follow_up(turn: Turn, command: Command, resources: Resources) -> None:
    """The official's answer to the follow-up: thanks and a 1-5 score to give, or word
    that the ticket went back to an expert."""
    action = parse(command.line)
    if not isinstance(action, AnswerFollowUp):
        await turn.reply(Reply.say(Msg.FOLLOWUP_USAGE))
        return
    try:
        ticket = await follow_up_ticket(turn.context, action.ticket, turn.sender, action.outcome)
    except Refused as refused:
        await turn.refuse(refused)
        return
    number = action.ticket
    if action.outcome is FollowUp.MORE_HELP:
        await turn.reply(Reply.say(Msg.FOLLOWUP_REOPENED, ticket=number))
        return
    await turn.reply(
        Reply(
            parts=(Text(Msg.FOLLOWUP_THANKS, {"ticket": number}),),
            buttons=tuple(Button(Quote(str(n)), ScoreTicket(number, n)) for n in range(1, 6)),
            ref=ref_of(ticket),
        )
    )


async def on_tickets(turn: Turn, command: Command, resources: Resources) -> None:
    """The sender's tickets, those routed to them, or (staff) all that need attention,
    each with what is scheduled next for it."""
    found = await tickets_of(turn.context, turn.sender)
    if not found.tickets:
        await turn.reply(Reply.say(Msg.TICKETS_NONE))
        return
    lines: list[Text] = []
    for ticket in found.tickets:
        assert ticket.id is not None
        lines.append(
            Text(
                Msg.TICKETS_LINE,
                {
                    "ticket": ticket.id,
                    "status": Text(STATUS_TEXT[ticket.status]),
                    "text": Quote(preview(ticket.text, _PREVIEW)),
                },
            )
        )
        upcoming = await turn.uow.schedule.pending(ticket_id=ticket.id)
        if upcoming and ticket.status is not TicketStatus.CANCELLED:
            soonest = upcoming[0]
            when = local_time(soonest.due_at, turn.sender)
            lines.append(
                Text(Msg.TICKETS_NEXT, {"action": Text(ACTION_NAMES[soonest.kind]), "when": when})
            )
    shown = tuple(dict.fromkeys(t.official_id for t in found.tickets))
    await turn.reply(
        Reply(
            (Text(found.header, {"count": len(found.tickets), "lines": tuple(lines)}),),
            mentions=shown,
        )
    )
