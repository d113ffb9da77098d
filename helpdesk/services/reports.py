"""What the hub reports: statistics of use, week by week, and the gaps in the base.

Pure functions over questions, tickets and people, so that the CLI, the chat's /stats
and the chart share one way of counting.
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from rapidfuzz import fuzz

from helpdesk.domain.knowledge import EntryStatus
from helpdesk.domain.people import Person, Role
from helpdesk.domain.questions import Action, AskedQuestion, Feedback
from helpdesk.domain.tickets import Ticket
from helpdesk.matching.normalize import normalize_text
from helpdesk.services.ports import UnitOfWork

__all__ = [
    "Gap",
    "Period",
    "Summary",
    "Week",
    "count_rows",
    "find_gaps",
    "group_similar",
    "period",
    "summarise",
    "weekly",
]

_SAME_LEXICAL = 72  # token_set_ratio on normalised text: same question, other words
_SAME_MEANING = 0.90  # cosine of multilingual embeddings: same question, other language
_EXAMPLES = 3


@dataclass(frozen=True)
class Week:
    start: date  # the Monday
    questions: int
    answered: int
    suggested: int
    escalated: int
    helpful: int
    not_helpful: int

    def rate(self, count: int) -> float:
        return count / self.questions if self.questions else 0.0


@dataclass
class Summary:
    since: datetime | None
    questions: int = 0
    answered: int = 0
    suggested: int = 0
    escalated: int = 0
    median_first_answer: timedelta | None = None
    helpful: int = 0
    not_helpful: int = 0
    mean_score: float | None = None
    by_language: dict[str, int] = field(default_factory=dict)
    by_country: dict[str, int] = field(default_factory=dict)
    new_tickets: int = 0  # created in the period
    answered_tickets: int = 0  # first answered in the period

    def percent(self, count: int) -> int:
        return round(100 * count / self.questions) if self.questions else 0

    def rate(self, count: int) -> float:
        """``count`` as a share of the questions, to three places (0 when none were asked)."""
        return round(count / self.questions, 3) if self.questions else 0


@dataclass(frozen=True)
class Period:
    """What a report of a period counts: the questions asked in it, the tickets that
    changed in it, and everyone registered (by id)."""

    since: datetime
    questions: list[AskedQuestion]
    tickets: list[Ticket]
    people: dict[int, Person]

    def summary(self) -> Summary:
        return summarise(self.questions, self.tickets, self.people, self.since)


async def period(uow: UnitOfWork, since: datetime) -> Period:
    """The questions, tickets and people a report of the time since ``since`` counts."""
    questions = await uow.questions.since(since)
    tickets = await uow.tickets.changed_since(since)
    people = {p.id: p for p in await uow.people.all() if p.id is not None}
    return Period(since, questions, tickets, people)


async def count_rows(uow: UnitOfWork) -> dict[str, dict[str, int]]:
    """How many entries by status, people by role and tickets by status there are now."""
    people = await uow.people.all()
    return {
        "entries": {s.value: len(await uow.entries.all(s)) for s in EntryStatus},
        "people": {r.value: sum(1 for p in people if p.role is r) for r in Role},
        "tickets": await uow.tickets.count_by_status(),
    }


def _monday(at: datetime) -> date:
    day = at.date()
    return day - timedelta(days=day.weekday())


def weekly(questions: Sequence[AskedQuestion]) -> list[Week]:
    """One row per week from the first question to the last, empty weeks included."""
    dated = [q for q in questions if q.created_at is not None]
    if not dated:
        return []
    buckets: dict[date, list[AskedQuestion]] = defaultdict(list)
    for question in dated:
        assert question.created_at is not None
        buckets[_monday(question.created_at)].append(question)
    first, last = min(buckets), max(buckets)
    weeks = []
    day = first
    while day <= last:
        items = buckets.get(day, [])
        actions = Counter(q.action for q in items)
        feedback = Counter(q.feedback for q in items)
        weeks.append(
            Week(
                start=day,
                questions=len(items),
                answered=actions[Action.ANSWER],
                suggested=actions[Action.SUGGEST],
                escalated=actions[Action.ESCALATE],
                helpful=feedback[Feedback.HELPFUL],
                not_helpful=feedback[Feedback.NOT_HELPFUL],
            )
        )
        day += timedelta(days=7)
    return weeks


def summarise(
    questions: Sequence[AskedQuestion],
    tickets: Sequence[Ticket],
    people: Mapping[int, Person],
    since: datetime | None = None,
) -> Summary:
    """The figures of a period: the questions asked in it and the tickets that changed in
    it (``since`` its start). One way of counting for /stats, `helpdesk stats`, the
    weekly digest and the reports."""
    actions = Counter(q.action for q in questions)
    answered = [
        t
        for t in tickets
        if t.first_answered_at is not None and (since is None or t.first_answered_at >= since)
    ]
    waits = [
        (t.first_answered_at - t.created_at).total_seconds()
        for t in answered
        if t.first_answered_at is not None
    ]
    scores = [t.score for t in tickets if t.score is not None]
    helpful = sum(q.feedback is Feedback.HELPFUL for q in questions)
    helpful += sum(t.rating is Feedback.HELPFUL for t in tickets)
    not_helpful = sum(q.feedback is Feedback.NOT_HELPFUL for q in questions)
    not_helpful += sum(t.rating is Feedback.NOT_HELPFUL for t in tickets)
    countries: Counter[str] = Counter()
    for q in questions:
        person = people.get(q.person_id) if q.person_id is not None else None
        countries[(person.country if person else None) or "?"] += 1
    return Summary(
        since=since,
        questions=len(questions),
        answered=actions[Action.ANSWER],
        suggested=actions[Action.SUGGEST],
        escalated=actions[Action.ESCALATE],
        median_first_answer=timedelta(seconds=round(statistics.median(waits))) if waits else None,
        helpful=helpful,
        not_helpful=not_helpful,
        mean_score=statistics.mean(scores) if scores else None,
        by_language=dict(Counter(q.language or "?" for q in questions).most_common()),
        by_country=dict(countries.most_common()),
        new_tickets=sum(since is None or t.created_at >= since for t in tickets),
        answered_tickets=len(answered),
    )


@dataclass(frozen=True)
class Gap:
    """Questions the base could not answer well, that are one question in other words."""

    count: int
    languages: dict[str, int]
    examples: tuple[str, ...]
    escalated: int
    not_helpful: int


Embed = Callable[[Sequence[str]], np.ndarray]  # texts → unit vectors, one row each


def _escalated(question: AskedQuestion) -> bool:
    """Passed to an expert: by the matcher, or by the official after an answer."""
    return question.action is Action.ESCALATE or question.ticket_id is not None


def group_similar(texts: Sequence[str], embed: Embed | None = None) -> list[list[int]]:
    """Texts that are one question in other words, grouped (indexes into ``texts``),
    biggest group first.

    Two texts are one when their normalised words mostly agree (across scripts, missing
    diacritics and word order) or, with the multilingual model, when they mean the same
    in different languages. Greedy, against each group's first text."""
    folded = [normalize_text(text) for text in texts]
    vectors = embed(list(texts)) if embed is not None and texts else None
    groups: list[list[int]] = []
    for i, text in enumerate(folded):
        for group in groups:
            head = group[0]
            same = fuzz.token_set_ratio(text, folded[head]) >= _SAME_LEXICAL
            if not same and vectors is not None:
                same = float(vectors[i] @ vectors[head]) >= _SAME_MEANING
            if same:
                group.append(i)
                break
        else:
            groups.append([i])
    groups.sort(key=len, reverse=True)
    return groups


def find_gaps(
    questions: Sequence[AskedQuestion], embed: Embed | None = None, limit: int = 20
) -> list[Gap]:
    """Escalated and "not helpful" questions grouped by similarity, biggest first.

    Two questions are one gap when their normalised words mostly agree (across scripts
    and missing diacritics), or, with the multilingual model, when they mean the same
    in different languages (``group_similar``)."""
    gaps = [q for q in questions if _escalated(q) or q.feedback is Feedback.NOT_HELPFUL]
    if not gaps:
        return []
    groups = group_similar([q.text for q in gaps], embed)
    found = []
    for group in groups[:limit]:
        members = [gaps[i] for i in group]
        examples = tuple(dict.fromkeys(" ".join(q.text.split()) for q in members))[:_EXAMPLES]
        found.append(
            Gap(
                count=len(members),
                languages=dict(Counter(q.language or "?" for q in members).most_common()),
                examples=examples,
                escalated=sum(_escalated(q) for q in members),
                not_helpful=sum(q.feedback is Feedback.NOT_HELPFUL for q in members),
            )
        )
    return found
