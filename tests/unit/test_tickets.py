from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from helpdesk.domain.errors import DomainError, IllegalTransition
from helpdesk.domain.questions import Feedback
from helpdesk.domain.tickets import Ticket, TicketEventKind, TicketStatus

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OFFICIAL, EXPERT, OTHER = 1, 2, 3


def ticket_in(status: TicketStatus) -> Ticket:
    """A ticket brought to ``status`` through legal transitions only."""
    ticket = Ticket.create(OFFICIAL, "How do we involve young people?", NOW)
    ticket.id = 7
    if status is TicketStatus.OPEN:
        return ticket
    if status is TicketStatus.CANCELLED:
        ticket.cancel(NOW, actor_id=OFFICIAL)
        return ticket
    ticket.assign(EXPERT, NOW)
    if status is TicketStatus.ASSIGNED:
        return ticket
    if status is TicketStatus.DECLINED:
        ticket.decline(EXPERT, NOW)
        return ticket
    ticket.answer_with(EXPERT, "Work with youth-led groups.", NOW)
    if status is TicketStatus.ANSWERED:
        return ticket
    if status is TicketStatus.CLOSED:
        ticket.close(NOW)
        return ticket
    ticket.reopen(NOW, actor_id=OFFICIAL)
    assert status is TicketStatus.REOPENED
    return ticket


ACTIONS: dict[str, Callable[[Ticket], None]] = {
    "assign": lambda t: t.assign(OTHER, NOW),
    "decline": lambda t: t.decline(t.assignee_id or EXPERT, NOW),
    "release": lambda t: t.release(NOW),
    "answer": lambda t: t.answer_with(t.assignee_id or EXPERT, "An answer", NOW),
    "rate": lambda t: t.rate(Feedback.HELPFUL, NOW),
    "close": lambda t: t.close(NOW),
    "reopen": lambda t: t.reopen(NOW),
    "cancel": lambda t: t.cancel(NOW),
}

S = TicketStatus
LEGAL: dict[TicketStatus, dict[str, TicketStatus]] = {
    S.OPEN: {"assign": S.ASSIGNED, "cancel": S.CANCELLED},
    S.ASSIGNED: {
        "assign": S.ASSIGNED,
        "decline": S.DECLINED,
        "release": S.OPEN,
        "answer": S.ANSWERED,
        "cancel": S.CANCELLED,
    },
    S.DECLINED: {"assign": S.ASSIGNED, "release": S.OPEN, "cancel": S.CANCELLED},
    S.REOPENED: {"assign": S.ASSIGNED, "release": S.OPEN, "cancel": S.CANCELLED},
    S.ANSWERED: {"rate": S.CLOSED, "close": S.CLOSED, "reopen": S.REOPENED, "cancel": S.CANCELLED},
    S.CLOSED: {"reopen": S.REOPENED},
    S.CANCELLED: {},
}


def test_the_table_covers_every_state() -> None:
    assert set(LEGAL) == set(TicketStatus)


@pytest.mark.parametrize(
    ("status", "action"),
    [(s, a) for s in TicketStatus for a in ACTIONS if a not in LEGAL[s]],
)
def test_every_illegal_transition_raises_and_changes_nothing(
    status: TicketStatus, action: str
) -> None:
    ticket = ticket_in(status)
    events = list(ticket.events)
    with pytest.raises(IllegalTransition) as raised:
        ACTIONS[action](ticket)
    assert raised.value.ticket_id == 7
    assert ticket.status is status
    assert ticket.events == events


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [(s, a, to) for s, moves in LEGAL.items() for a, to in moves.items()],
)
def test_every_legal_transition_moves_and_is_recorded(
    status: TicketStatus, action: str, after: TicketStatus
) -> None:
    ticket = ticket_in(status)
    before = len(ticket.events)
    ACTIONS[action](ticket)
    assert ticket.status is after
    assert len(ticket.events) > before
    assert all(e.at == NOW for e in ticket.events[before:])


def test_history_says_who_did_what() -> None:
    ticket = Ticket.create(OFFICIAL, "Question?", NOW)
    ticket.assign(EXPERT, NOW, reason="shares a language")
    ticket.answer_with(EXPERT, "Answer.", NOW)
    ticket.rate(Feedback.HELPFUL, NOW)
    kinds = [(e.kind, e.actor_id, e.expert_id) for e in ticket.events]
    assert kinds == [
        (TicketEventKind.CREATED, OFFICIAL, None),
        (TicketEventKind.ASSIGNED, None, EXPERT),
        (TicketEventKind.ANSWERED, EXPERT, EXPERT),
        (TicketEventKind.RATED, OFFICIAL, None),
        (TicketEventKind.CLOSED, OFFICIAL, None),
    ]
    assert ticket.events[1].detail == "shares a language"
    assert ticket.rating is Feedback.HELPFUL
    assert ticket.answer == "Answer." and ticket.answered_by == EXPERT


def test_reassigning_to_the_same_expert_is_illegal() -> None:
    ticket = ticket_in(TicketStatus.ASSIGNED)
    with pytest.raises(IllegalTransition):
        ticket.assign(EXPERT, NOW)


def test_only_the_assignee_can_decline() -> None:
    ticket = ticket_in(TicketStatus.ASSIGNED)
    with pytest.raises(DomainError):
        ticket.decline(OTHER, NOW)
    assert ticket.status is TicketStatus.ASSIGNED


def test_an_empty_answer_is_refused() -> None:
    ticket = ticket_in(TicketStatus.ASSIGNED)
    with pytest.raises(DomainError):
        ticket.answer_with(EXPERT, "   ", NOW)


def test_experts_tried_are_those_who_declined_timed_out_or_were_replaced() -> None:
    ticket = ticket_in(TicketStatus.ASSIGNED)  # EXPERT
    ticket.assign(OTHER, NOW)  # EXPERT replaced
    ticket.decline(OTHER, NOW)
    ticket.assign(4, NOW)
    ticket.release(NOW, reason="timed out")
    assert ticket.experts_tried == {EXPERT, OTHER, 4}


def test_active_and_waiting_states() -> None:
    assert {s for s in TicketStatus if s.is_active} == {
        S.OPEN,
        S.ASSIGNED,
        S.DECLINED,
        S.REOPENED,
    }
    assert ticket_in(S.DECLINED).is_waiting
    assert not ticket_in(S.ASSIGNED).is_waiting
