"""What experts are sent about a ticket: one builder for every notice that shows them the
question (a new ticket, a reminder, a reopened one), so that each quotes it, says how to
answer, offers to decline, and records whose question it shows."""

from helpdesk.domain.tickets import Ticket
from helpdesk.i18n import Button, Msg, Quote, Reply, Text

__all__ = ["expert_notice"]


def expert_notice(ticket: Ticket, heading: Text) -> Reply:
    """``heading``, the official's question, how to answer; a reply to it answers the
    ticket (``ref``), and it shows the official's words (``mentions``)."""
    assert ticket.id is not None
    number = ticket.id
    return Reply(
        parts=(heading, Quote(ticket.text), Text(Msg.EXPERT_HOW_TO_ANSWER, {"ticket": number})),
        buttons=(Button(Text(Msg.BUTTON_DECLINE), f"/decline {number}"),),
        ref=f"ticket:{number}",
        mentions=(ticket.official_id,),
    )
