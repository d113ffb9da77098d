"""Tickets: a question handed to an expert, with an explicit state machine and its history.

OPEN ──assign──▶ ASSIGNED ──answer──▶ ANSWERED ──close/rate──▶ CLOSED
  ▲                │  ▲ │                 │                      │
  └──release───────┘  │ └──decline──▶ DECLINED                   │
                      └──assign (reassign)─┘                     │
              REOPENED ◀──────────reopen─────────────────────────┘ (also from ANSWERED)
Any state but CLOSED and CANCELLED may be cancelled.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from helpdesk.domain.errors import DomainError, IllegalTransition
from helpdesk.domain.questions import Feedback

__all__ = ["FollowUp", "Ticket", "TicketEvent", "TicketEventKind", "TicketStatus"]


class TicketStatus(StrEnum):
    OPEN = "open"  # waiting for an expert
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    CLOSED = "closed"
    DECLINED = "declined"  # the assignee declined; waiting for another expert
    REOPENED = "reopened"  # the official needs more; waiting for an expert
    CANCELLED = "cancelled"

    @property
    def is_active(self) -> bool:
        """Still needs someone to act on it."""
        return self in _ACTIVE


_ACTIVE = frozenset(
    {TicketStatus.OPEN, TicketStatus.ASSIGNED, TicketStatus.DECLINED, TicketStatus.REOPENED}
)
_WAITING = frozenset({TicketStatus.OPEN, TicketStatus.DECLINED, TicketStatus.REOPENED})


class FollowUp(StrEnum):
    """What the official said when asked, some time after the answer, whether it helped."""

    SOLVED = "solved"
    PARTLY = "partly"
    MORE_HELP = "more_help"


class TicketEventKind(StrEnum):
    CREATED = "created"
    REMINDED = "reminded"  # the assignee was reminded that the ticket waits for them
    FOLLOWED_UP = "followed_up"  # the official was asked whether the answer helped
    ASSIGNED = "assigned"
    REASSIGNED = "reassigned"
    DECLINED = "declined"
    RELEASED = "released"  # nobody could take it; back to the queue
    ANSWERED = "answered"
    RATED = "rated"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class TicketEvent:
    """Who did what to a ticket, and when. ``expert_id`` is the expert the event concerns."""

    kind: TicketEventKind
    at: datetime
    actor_id: int | None = None
    expert_id: int | None = None
    detail: str = ""
    id: int | None = None


@dataclass
class Ticket:
    official_id: int
    text: str
    created_at: datetime
    language: str | None = None
    topics: tuple[str, ...] = ()
    question_id: int | None = None
    status: TicketStatus = TicketStatus.OPEN
    assignee_id: int | None = None
    answer: str | None = None
    answered_by: int | None = None
    answered_at: datetime | None = None
    rating: Feedback | None = None
    score: int | None = None  # 1-5, from the follow-up
    comment: str | None = None
    follow_up: FollowUp | None = None
    id: int | None = None
    events: list[TicketEvent] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        official_id: int,
        text: str,
        at: datetime,
        *,
        language: str | None = None,
        topics: tuple[str, ...] = (),
        question_id: int | None = None,
    ) -> "Ticket":
        ticket = cls(
            official_id=official_id,
            text=text,
            created_at=at,
            language=language,
            topics=topics,
            question_id=question_id,
        )
        ticket._record(TicketEventKind.CREATED, at, actor_id=official_id)
        return ticket

    # -- queries derived from the history ---------------------------------------------------

    @property
    def experts_tried(self) -> frozenset[int]:
        """Experts who declined the ticket or had it taken away: never route it back to them."""
        tried: set[int] = set()
        current: int | None = None
        for event in self.events:
            if event.kind is TicketEventKind.REASSIGNED and current is not None:
                tried.add(current)
            lost = event.kind in (TicketEventKind.DECLINED, TicketEventKind.RELEASED)
            if lost and event.expert_id is not None:
                tried.add(event.expert_id)
            if event.kind in (TicketEventKind.ASSIGNED, TicketEventKind.REASSIGNED):
                current = event.expert_id
        return frozenset(tried)

    @property
    def last_assigned_at(self) -> datetime | None:
        """When the current assignee got the ticket."""
        for event in reversed(self.events):
            if event.kind in (TicketEventKind.ASSIGNED, TicketEventKind.REASSIGNED):
                return event.at
        return None

    @property
    def followed_up_since_answer(self) -> bool:
        """Whether the official was asked about the latest answer already."""
        for event in reversed(self.events):
            if event.kind is TicketEventKind.ANSWERED:
                return False
            if event.kind is TicketEventKind.FOLLOWED_UP:
                return True
        return False

    @property
    def scored_since_answer(self) -> bool:
        """Whether the latest answer was given its 1-5 score already."""
        for event in reversed(self.events):
            if event.kind is TicketEventKind.ANSWERED:
                return False
            if event.kind is TicketEventKind.RATED and event.detail.endswith("/5"):
                return True
        return False

    @property
    def first_answered_at(self) -> datetime | None:
        return next((e.at for e in self.events if e.kind is TicketEventKind.ANSWERED), None)

    @property
    def is_waiting(self) -> bool:
        """Waiting for an expert to be assigned."""
        return self.status in _WAITING

    # -- transitions ---------------------------------------------------------------------

    def assign(
        self, expert_id: int, at: datetime, *, actor_id: int | None = None, reason: str = ""
    ) -> None:
        """Give the ticket to an expert; from ASSIGNED this is a reassignment."""
        if self.status is TicketStatus.ASSIGNED:
            if expert_id == self.assignee_id:
                raise IllegalTransition(self.id, self.status, "reassign to the same expert")
            kind = TicketEventKind.REASSIGNED
        elif self.status in _WAITING:
            kind = TicketEventKind.ASSIGNED
        else:
            raise IllegalTransition(self.id, self.status, "assign")
        self.status = TicketStatus.ASSIGNED
        self.assignee_id = expert_id
        self._record(kind, at, actor_id=actor_id, expert_id=expert_id, detail=reason)

    def decline(self, expert_id: int, at: datetime, *, reason: str = "") -> None:
        """The assignee cannot take it."""
        self._require(TicketStatus.ASSIGNED, "decline")
        if expert_id != self.assignee_id:
            raise DomainError(f"ticket {self.id}: only its assignee can decline it")
        self.status = TicketStatus.DECLINED
        self.assignee_id = None
        self._record(
            TicketEventKind.DECLINED, at, actor_id=expert_id, expert_id=expert_id, detail=reason
        )

    def release(self, at: datetime, *, reason: str = "") -> None:
        """Nobody can take the ticket now: it goes back to the queue."""
        if self.status is TicketStatus.OPEN or not self.status.is_active:
            raise IllegalTransition(self.id, self.status, "release")
        released = self.assignee_id
        self.status = TicketStatus.OPEN
        self.assignee_id = None
        self._record(TicketEventKind.RELEASED, at, expert_id=released, detail=reason)

    def answer_with(self, expert_id: int, text: str, at: datetime) -> None:
        """Record the expert's answer; it will be relayed to the official."""
        self._require(TicketStatus.ASSIGNED, "answer")
        if not text.strip():
            raise DomainError(f"ticket {self.id}: an answer cannot be empty")
        self.status = TicketStatus.ANSWERED
        self.answer = text
        self.answered_by = expert_id
        self.answered_at = at
        self._record(TicketEventKind.ANSWERED, at, actor_id=expert_id, expert_id=expert_id)

    def rate(self, rating: Feedback, at: datetime) -> None:
        """The official rated the answer; rating an answer closes the ticket."""
        self._require(TicketStatus.ANSWERED, "rate")
        self.rating = rating
        self._record(TicketEventKind.RATED, at, actor_id=self.official_id, detail=rating.value)
        self.status = TicketStatus.CLOSED
        self._record(TicketEventKind.CLOSED, at, actor_id=self.official_id)

    def remind(self, expert_id: int, at: datetime) -> None:
        """The assignee was reminded: history only, the state does not change."""
        if self.status is not TicketStatus.ASSIGNED or self.assignee_id != expert_id:
            raise IllegalTransition(self.id, self.status, "remind")
        self._record(TicketEventKind.REMINDED, at, expert_id=expert_id)

    def asked_to_follow_up(self, at: datetime) -> None:
        """The official was asked whether the answer helped."""
        if self.status not in (TicketStatus.ANSWERED, TicketStatus.CLOSED):
            raise IllegalTransition(self.id, self.status, "follow up")
        self._record(TicketEventKind.FOLLOWED_UP, at, detail="asked")

    def record_follow_up(self, outcome: FollowUp, at: datetime) -> None:
        """The official's answer to the follow-up; "more help" reopens (see ``reopen``)."""
        if self.status not in (TicketStatus.ANSWERED, TicketStatus.CLOSED):
            raise IllegalTransition(self.id, self.status, "follow up")
        self.follow_up = outcome
        self._record(TicketEventKind.FOLLOWED_UP, at, actor_id=self.official_id, detail=outcome)

    def score_with(self, score: int, at: datetime, comment: str | None = None) -> None:
        """A 1-5 rating with an optional comment, once per answer; an answered ticket is
        closed by it."""
        if not 1 <= score <= 5:
            raise DomainError(f"ticket {self.id}: a score is 1 to 5, not {score}")
        if self.status not in (TicketStatus.ANSWERED, TicketStatus.CLOSED):
            raise IllegalTransition(self.id, self.status, "score")
        if self.scored_since_answer:
            raise IllegalTransition(self.id, self.status, "score again")
        self.score = score
        self.comment = comment.strip() if comment and comment.strip() else None
        self._record(TicketEventKind.RATED, at, actor_id=self.official_id, detail=f"{score}/5")
        if self.status is TicketStatus.ANSWERED:
            self.status = TicketStatus.CLOSED
            self._record(TicketEventKind.CLOSED, at, actor_id=self.official_id)

    def close(self, at: datetime, *, actor_id: int | None = None) -> None:
        self._require(TicketStatus.ANSWERED, "close")
        self.status = TicketStatus.CLOSED
        self._record(TicketEventKind.CLOSED, at, actor_id=actor_id)

    def reopen(self, at: datetime, *, actor_id: int | None = None, reason: str = "") -> None:
        """The official needs more help after an answer."""
        if self.status not in (TicketStatus.ANSWERED, TicketStatus.CLOSED):
            raise IllegalTransition(self.id, self.status, "reopen")
        self.status = TicketStatus.REOPENED
        self.assignee_id = None
        self._record(TicketEventKind.REOPENED, at, actor_id=actor_id, detail=reason)

    def cancel(self, at: datetime, *, actor_id: int | None = None, reason: str = "") -> None:
        if self.status in (TicketStatus.CLOSED, TicketStatus.CANCELLED):
            raise IllegalTransition(self.id, self.status, "cancel")
        self.status = TicketStatus.CANCELLED
        self.assignee_id = None
        self._record(TicketEventKind.CANCELLED, at, actor_id=actor_id, detail=reason)

    # -- helpers -------------------------------------------------------------------------

    def _require(self, status: TicketStatus, action: str) -> None:
        if self.status is not status:
            raise IllegalTransition(self.id, self.status, action)

    def _record(
        self,
        kind: TicketEventKind,
        at: datetime,
        *,
        actor_id: int | None = None,
        expert_id: int | None = None,
        detail: str = "",
    ) -> None:
        self.events.append(
            TicketEvent(kind=kind, at=at, actor_id=actor_id, expert_id=expert_id, detail=detail)
        )
