"""Every question asked, what the matcher found, what was decided, and how it was received."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from helpdesk.domain.errors import DomainError

__all__ = ["Action", "AskedQuestion", "Candidate", "Feedback", "Match"]


class Action(StrEnum):
    ANSWER = "answer"  # one entry is clearly best
    SUGGEST = "suggest"  # a few are plausible: the official picks
    ESCALATE = "escalate"  # nothing close: a ticket for an expert


class Feedback(StrEnum):
    HELPFUL = "helpful"
    NOT_HELPFUL = "not_helpful"


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    title: str
    score: float  # 0-100


@dataclass(frozen=True)
class Match:
    """The matcher's verdict on one question."""

    normalized: str
    action: Action
    candidates: tuple[Candidate, ...]  # best first

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def score(self) -> float:
        return self.candidates[0].score if self.candidates else 0.0


@dataclass
class AskedQuestion:
    person_id: int | None
    text: str
    normalized: str
    action: Action
    candidates: tuple[Candidate, ...] = ()
    language: str | None = None
    entry_id: str | None = None  # the entry shown: the answer, or the suggestion picked
    feedback: Feedback | None = None
    ticket_id: int | None = None
    id: int | None = None
    created_at: datetime | None = None
    suggested: tuple[Candidate, ...] = field(default=())  # what the official was offered

    def pick(self, index: int) -> Candidate:
        """The official chose the index-th suggestion (1-based)."""
        if not 1 <= index <= len(self.suggested):
            raise DomainError(f"question {self.id}: no suggestion number {index}")
        chosen = self.suggested[index - 1]
        self.entry_id = chosen.entry_id
        return chosen

    def give_feedback(self, feedback: Feedback) -> None:
        if self.entry_id is None:
            raise DomainError(f"question {self.id}: no answer was shown, nothing to rate")
        self.feedback = feedback
