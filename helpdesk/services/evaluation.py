"""Measuring answer quality: run labelled questions through a matcher and count.

Definitions (per question set, and per language):

- hit@1: in-scope questions whose first candidate is the expected entry, and the
  decision is answer or suggest (the official sees it);
- hit@3: likewise with the expected entry among the first three candidates;
- auto-answer: in-scope questions answered directly with the expected entry;
- wrong answer: questions answered directly with any other entry, out-of-scope ones
  included (the costly mistake: a confident answer to the wrong question);
- out-of-scope escalation: out-of-scope questions that were escalated (or, at worst,
  offered suggestions a person can refuse: counted separately);
- reply language: questions whose language is identified as the one they are written in
  (the reply follows it): for someone the helpdesk knows nothing about, and for an
  official invited with that language (which decides between the standards of
  Serbo-Croatian that one sentence does not tell apart);
- answer in language: in-scope questions whose right entry the official would read in
  the language they wrote in (the entry is written in it).
"""

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from helpdesk.domain.knowledge import Entry
from helpdesk.domain.questions import Action, Match
from helpdesk.matching import Matcher
from helpdesk.matching.language import LanguageIdentifier

__all__ = ["EvaluationReport", "LabelledQuestion", "Scores", "evaluate", "read_labelled"]

OUT_OF_SCOPE = "none"


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    expected: str | None  # the entry id that should answer it; None: out of scope
    lang: str = "?"
    tags: tuple[str, ...] = ()


def read_labelled(lines: Iterable[str]) -> list[LabelledQuestion]:
    """JSON lines: ``{"question": ..., "expected": "<entry id>" or "none", "lang": ...}``.

    Raises ValueError naming the line for anything else.
    """
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(line)
            expected = data["expected"]
            question = data["question"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"line {number}: {error}") from None
        if not isinstance(question, str) or not isinstance(expected, str | None):
            raise ValueError(f"line {number}: question and expected must be text")
        questions.append(
            LabelledQuestion(
                question=question,
                expected=None if expected in (None, OUT_OF_SCOPE) else expected,
                lang=str(data.get("lang", "?")),
                tags=tuple(str(t) for t in data.get("tags", ())),
            )
        )
    return questions


@dataclass
class Scores:
    questions: int = 0
    in_scope: int = 0
    out_of_scope: int = 0
    hit_at_1: float = 0.0
    hit_at_3: float = 0.0
    auto_answer: float = 0.0
    wrong_answer: float = 0.0
    out_of_scope_escalated: float = 0.0
    out_of_scope_suggested: float = 0.0
    reply_language: float = 0.0
    reply_language_invited: float = 0.0
    answer_in_language: float = 0.0
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0


@dataclass
class _Outcome:
    labelled: LabelledQuestion
    match: Match
    seconds: float
    identified: str | None = None  # the reply language, for someone unknown
    identified_invited: str | None = None  # for an official invited with the language
    entry_languages: tuple[str, ...] = ()  # those the expected entry is written in

    @property
    def first(self) -> str | None:
        return self.match.best.entry_id if self.match.best else None

    @property
    def shown(self) -> bool:
        return self.match.action is not Action.ESCALATE


@dataclass
class EvaluationReport:
    overall: Scores
    by_language: dict[str, Scores] = field(default_factory=dict)
    mistakes: list[dict[str, object]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def evaluate(
    matcher: Matcher,
    questions: Sequence[LabelledQuestion],
    languages: LanguageIdentifier | None = None,
    entries: Mapping[str, Entry] | None = None,
) -> EvaluationReport:
    """Match every question and count; with ``languages`` (and ``entries``), the reply
    language and the language of the answer too."""
    outcomes = []
    for labelled in questions:
        start = time.perf_counter()
        match = matcher.match(labelled.question)
        outcome = _Outcome(labelled, match, time.perf_counter() - start)
        if languages is not None:
            outcome.identified = languages.identify(labelled.question)
            outcome.identified_invited = languages.identify(labelled.question, (labelled.lang,))
        right_entry = entries.get(labelled.expected) if entries and labelled.expected else None
        if right_entry is not None:
            outcome.entry_languages = right_entry.languages
        outcomes.append(outcome)
    written_in = sorted({o.labelled.lang for o in outcomes})
    report = EvaluationReport(
        overall=_scores(outcomes),
        by_language={
            lang: _scores([o for o in outcomes if o.labelled.lang == lang]) for lang in written_in
        },
    )
    for outcome in outcomes:
        expected = outcome.labelled.expected
        right = outcome.first == expected and outcome.shown
        wrong_answer = outcome.match.action is Action.ANSWER and outcome.first != expected
        missed_oos = expected is None and outcome.shown
        if (expected is not None and not right) or wrong_answer or missed_oos:
            report.mistakes.append(
                {
                    "question": outcome.labelled.question,
                    "lang": outcome.labelled.lang,
                    "expected": expected or OUT_OF_SCOPE,
                    "action": outcome.match.action.value,
                    "candidates": [(c.entry_id, c.score) for c in outcome.match.candidates[:3]],
                }
            )
    return report


def _scores(outcomes: Sequence[_Outcome]) -> Scores:
    inside = [o for o in outcomes if o.labelled.expected is not None]
    outside = [o for o in outcomes if o.labelled.expected is None]

    def rate(hits: int, total: int) -> float:
        return round(hits / total, 4) if total else 0.0

    latencies = sorted(o.seconds * 1000 for o in outcomes)
    return Scores(
        questions=len(outcomes),
        in_scope=len(inside),
        out_of_scope=len(outside),
        hit_at_1=rate(sum(o.shown and o.first == o.labelled.expected for o in inside), len(inside)),
        hit_at_3=rate(
            sum(
                o.shown and o.labelled.expected in [c.entry_id for c in o.match.candidates[:3]]
                for o in inside
            ),
            len(inside),
        ),
        auto_answer=rate(
            sum(o.match.action is Action.ANSWER and o.first == o.labelled.expected for o in inside),
            len(inside),
        ),
        wrong_answer=rate(
            sum(
                o.match.action is Action.ANSWER and o.first != o.labelled.expected for o in outcomes
            ),
            len(outcomes),
        ),
        out_of_scope_escalated=rate(
            sum(o.match.action is Action.ESCALATE for o in outside), len(outside)
        ),
        out_of_scope_suggested=rate(
            sum(o.match.action is Action.SUGGEST for o in outside), len(outside)
        ),
        reply_language=rate(sum(o.identified == o.labelled.lang for o in outcomes), len(outcomes)),
        reply_language_invited=rate(
            sum(o.identified_invited == o.labelled.lang for o in outcomes), len(outcomes)
        ),
        answer_in_language=rate(
            sum(o.labelled.lang in o.entry_languages for o in inside), len(inside)
        ),
        latency_p50_ms=round(_percentile(latencies, 50), 3),
        latency_p95_ms=round(_percentile(latencies, 95), 3),
    )


def _percentile(values: Sequence[float], percent: float) -> float:
    if not values:
        return 0.0
    rank = (len(values) - 1) * percent / 100
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)
