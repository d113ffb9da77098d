"""What people are sent about a ticket by someone else's doing: the expert's notices that
show them the question (a new ticket, a reminder, a reopened one), the official's
answer, the follow-up. Each quotes what it must, offers the buttons that go with it,
says what a reply to it is about (``ref``), and records whose words it shows
(``mentions``)."""

from helpdesk.domain.actions import AnswerFollowUp, DeclineTicket, RateTicket
from helpdesk.domain.people import Person
from helpdesk.domain.questions import Feedback
from helpdesk.domain.tickets import FollowUp, Ticket
from helpdesk.i18n import Button, LanguageName, Msg, Param, Place, Quote, Reply, Text

__all__ = [
    "answer_notice",
    "expert_notice",
    "follow_up_notice",
    "new_ticket_notice",
    "place_of",
    "ref_of",
]

_FOLLOW_UP_BUTTONS = (
    (Msg.BUTTON_SOLVED, FollowUp.SOLVED),
    (Msg.BUTTON_PARTLY, FollowUp.PARTLY),
    (Msg.BUTTON_MORE_HELP, FollowUp.MORE_HELP),
)


def place_of(person: Person) -> Param:
    """Where someone is from, as a message shows it."""
    if person.city or person.country:
        return Place(person.city, person.country)
    return Text(Msg.PLACE_UNKNOWN)


def ref_of(ticket: Ticket) -> str:
    """What a reply to a message about the ticket refers to."""
    assert ticket.id is not None
    return f"ticket:{ticket.id}"


def expert_notice(ticket: Ticket, heading: Text) -> Reply:
    """``heading``, the official's question, how to answer; a reply to it answers the
    ticket, and it shows the official's words."""
    assert ticket.id is not None
    number = ticket.id
    return Reply(
        parts=(heading, Quote(ticket.text), Text(Msg.EXPERT_HOW_TO_ANSWER, {"ticket": number})),
        buttons=(Button(Text(Msg.BUTTON_DECLINE), DeclineTicket(number)),),
        ref=ref_of(ticket),
        mentions=(ticket.official_id,),
    )


def new_ticket_notice(ticket: Ticket, official: Person) -> Reply:
    """A ticket routed to an expert: where it comes from, in which language."""
    assert ticket.id is not None
    language: Param = (
        LanguageName(ticket.language) if ticket.language else Text(Msg.LANGUAGE_UNKNOWN)
    )
    heading = Text(
        Msg.EXPERT_NEW_TICKET,
        {"ticket": ticket.id, "place": place_of(official), "language": language},
    )
    return expert_notice(ticket, heading)


def answer_notice(ticket: Ticket, expert: Person, text: str) -> Reply:
    """The expert's answer, for the official, with the buttons that rate it."""
    assert ticket.id is not None and expert.id is not None
    number = ticket.id
    return Reply(
        parts=(
            Text(Msg.OFFICIAL_ANSWER_RECEIVED, {"ticket": number}),
            Quote(text),
            Text(Msg.OFFICIAL_ANSWER_FROM, {"name": expert.name, "place": place_of(expert)}),
            Text(Msg.ANSWER_DID_IT_HELP),
        ),
        buttons=(
            Button(Text(Msg.BUTTON_HELPFUL), RateTicket(number, Feedback.HELPFUL)),
            Button(Text(Msg.BUTTON_NOT_HELPFUL), RateTicket(number, Feedback.NOT_HELPFUL)),
        ),
        ref=ref_of(ticket),
        mentions=(expert.id,),
    )


def follow_up_notice(ticket: Ticket) -> Reply:
    """Some days after the answer: did it help, was it put into practice?"""
    assert ticket.id is not None
    number = ticket.id
    return Reply(
        parts=(Text(Msg.FOLLOWUP_QUESTION, {"ticket": number}), Quote(ticket.text)),
        buttons=tuple(
            Button(Text(key), AnswerFollowUp(number, outcome))
            for key, outcome in _FOLLOW_UP_BUTTONS
        ),
        ref=ref_of(ticket),
    )
