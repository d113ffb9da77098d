"""What a button does, as a value: built and read here, and nowhere else.

A button's action is also a command a person can type (``/rate 12 helpful``), so that a
platform without buttons, or someone typing, does the same thing. Messages keep actions
in that written form (``line``); ``parse`` reads it back. Storage and the adapters carry
the written form without knowing what it means.
"""

import re
from dataclasses import dataclass

from helpdesk.domain.limits import MAX_ROW_ID
from helpdesk.domain.questions import Feedback
from helpdesk.domain.tickets import FollowUp

__all__ = [
    "AnswerFollowUp",
    "ChatAction",
    "ChooseLanguage",
    "ConfirmForget",
    "Connect",
    "DecideProposal",
    "DeclineTicket",
    "EscalateQuestion",
    "GiveFeedback",
    "PickSuggestion",
    "PublishEntry",
    "RateTicket",
    "ScoreTicket",
    "line",
    "parse",
]

_NUMBER = re.compile(r"#?([0-9]{1,10})")
_CONFIRM = "yes"


@dataclass(frozen=True)
class GiveFeedback:
    """Helpful or not, about an answer from the knowledge base."""

    question: int
    feedback: Feedback


@dataclass(frozen=True)
class PickSuggestion:
    question: int
    index: int  # 1-based, among the suggestions offered


@dataclass(frozen=True)
class EscalateQuestion:
    """Ask an expert, after an answer or suggestions."""

    question: int


@dataclass(frozen=True)
class Connect:
    """Talk with the city whose practice answered the question."""

    question: int


@dataclass(frozen=True)
class RateTicket:
    """Helpful or not, about an expert's answer."""

    ticket: int
    rating: Feedback


@dataclass(frozen=True)
class ScoreTicket:
    """A 1-5 score, after the follow-up."""

    ticket: int
    score: int


@dataclass(frozen=True)
class AnswerFollowUp:
    ticket: int
    outcome: FollowUp


@dataclass(frozen=True)
class DeclineTicket:
    ticket: int


@dataclass(frozen=True)
class ChooseLanguage:
    code: str


@dataclass(frozen=True)
class ConfirmForget:
    """Yes, erase what the helpdesk keeps about me."""


@dataclass(frozen=True)
class PublishEntry:
    entry: str


@dataclass(frozen=True)
class DecideProposal:
    proposal: int
    accept: bool


ChatAction = (
    GiveFeedback
    | PickSuggestion
    | EscalateQuestion
    | Connect
    | RateTicket
    | ScoreTicket
    | AnswerFollowUp
    | DeclineTicket
    | ChooseLanguage
    | ConfirmForget
    | PublishEntry
    | DecideProposal
)


def line(action: ChatAction) -> str:
    """The action as the command a person could type."""
    match action:
        case GiveFeedback(question, feedback):
            return f"/feedback {question} {feedback.value}"
        case PickSuggestion(question, index):
            return f"/pick {question} {index}"
        case EscalateQuestion(question):
            return f"/escalate {question}"
        case Connect(question):
            return f"/connect {question}"
        case RateTicket(ticket, rating):
            return f"/rate {ticket} {rating.value}"
        case ScoreTicket(ticket, score):
            return f"/rate {ticket} {score}"
        case AnswerFollowUp(ticket, outcome):
            return f"/followup {ticket} {outcome.value}"
        case DeclineTicket(ticket):
            return f"/decline {ticket}"
        case ChooseLanguage(code):
            return f"/language {code}"
        case ConfirmForget():
            return f"/forget {_CONFIRM}"
        case PublishEntry(entry):
            return f"/publish {entry}"
        case DecideProposal(proposal, accept):
            return f"/{'accept' if accept else 'reject'} {proposal}"


def _number(text: str) -> int | None:
    match = _NUMBER.fullmatch(text)
    if match is None:
        return None
    value = int(match[1])
    return value if 1 <= value <= MAX_ROW_ID else None


def parse(text: str) -> ChatAction | None:
    """The action a written command stands for, or None if it is not one (or its
    arguments are not what the action takes). Typed by hand or pressed, the same."""
    words = text.split()
    if not words or not words[0].startswith(("/", "!")):
        return None
    name, args = words[0][1:].split("@", 1)[0].lower(), words[1:]
    first = _number(args[0]) if args else None
    second = args[1].lower() if len(args) > 1 else ""
    if name in ("feedback", "rate") and first is not None and len(args) == 2:
        feedback = next((f for f in Feedback if f.value == second), None)
        if feedback is not None:
            return (
                GiveFeedback(first, feedback) if name == "feedback" else RateTicket(first, feedback)
            )
        if name == "rate" and second in ("1", "2", "3", "4", "5"):
            return ScoreTicket(first, int(second))
        return None
    if name == "pick" and first is not None and len(args) == 2:
        index = _number(args[1])
        return PickSuggestion(first, index) if index is not None else None
    if name == "followup" and first is not None and len(args) == 2:
        outcome = next((o for o in FollowUp if o.value == second), None)
        return AnswerFollowUp(first, outcome) if outcome is not None else None
    if len(args) == 1 and first is not None:
        if name == "escalate":
            return EscalateQuestion(first)
        if name == "connect":
            return Connect(first)
        if name == "decline":
            return DeclineTicket(first)
        if name in ("accept", "reject"):
            return DecideProposal(first, name == "accept")
    if name == "language" and len(args) == 1:
        return ChooseLanguage(args[0])
    if name == "forget" and len(args) == 1 and args[0].lower() == _CONFIRM:
        return ConfirmForget()
    if name == "publish" and len(args) == 1:
        return PublishEntry(args[0])
    return None
