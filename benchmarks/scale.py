"""Answer quality in a large base with many similar entries.

    .venv/bin/python -m benchmarks.scale               # the sets, shipped matchers (SCALE.md)
    .venv/bin/python -m benchmarks.scale --diagnose    # and every suspect measured apart

The project's labelled questions (tests/data/questions.jsonl) are asked of knowledge/
alone and of knowledge/ plus 10,000 distractor entries about ordinary municipal services
(benchmarks/distractors.py: 70,000 phrasings in the nine language variants, many of them
near-duplicates of each other). The same for the unseen set, a knowledge base and
questions written by someone else (benchmarks/data/unseen/, when it is there). Both
matchers run with the thresholds they ship with. Misses are split by where they went: to
a distractor, to another entry of the set's own base, or escalated.

Vectors are cached in benchmarks/.cache like every benchmark's (embedding the distractors
takes about an hour once, on two threads: BENCH_THREADS).
"""

import argparse
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from benchmarks.common import (
    ROOT,
    CachedEmbedder,
    embedder,
    knowledge_vectors,
    project_entries,
    project_questions,
    question_vectors,
    save_cache,
)
from benchmarks.distractors import distractor_entries
from helpdesk.domain.knowledge import Entry
from helpdesk.domain.questions import Action
from helpdesk.knowledge_files import read_knowledge
from helpdesk.matching import Matcher
from helpdesk.matching.decision import HYBRID_POLICY, LEXICAL_POLICY
from helpdesk.matching.fuzzy import FuzzyMatcher
from helpdesk.matching.hybrid import HybridMatcher, HybridWeights
from helpdesk.matching.semantic import Embedder
from helpdesk.services.evaluation import LabelledQuestion, Scores, evaluate, read_labelled

UNSEEN = ROOT / "benchmarks" / "data" / "unseen"
# The tables of the latest run; benchmarks/SCALE.md quotes them with what they say.
LATEST = ROOT / "benchmarks" / ".cache" / "scale-latest.md"


@dataclass
class QuestionSet:
    """Labelled questions and the knowledge base they were written for."""

    name: str
    entries: list[Entry]
    questions: list[LabelledQuestion]


def question_sets() -> list[QuestionSet]:
    sets = [QuestionSet("labelled", project_entries(), project_questions())]
    if (UNSEEN / "questions.jsonl").exists():
        files = read_knowledge([UNSEEN / "kb"])
        assert files.ok, [str(p) for p in files.errors]
        lines = (UNSEEN / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        sets.append(QuestionSet("unseen", files.entries, read_labelled(lines)))
    return sets


@dataclass
class Where:
    """Where the in-scope questions that were not shown their entry first went, and where
    the wrong answers and the out-of-scope questions that got through went."""

    missed_to_distractor: int = 0
    missed_to_own: int = 0
    missed_escalated: int = 0
    wrong_to_distractor: int = 0
    wrong_to_own: int = 0
    oos_shown_distractor: int = 0
    oos_shown_own: int = 0
    # Out-of-scope questions about municipal business, which the distractors answer.
    business_shown_distractor: int = 0


@dataclass
class Result:
    scores: Scores
    where: Where
    seconds: float
    embedded: float  # share of questions that needed the model
    oos_escalated_not_business: float  # out of scope, municipal business left out


def run(matcher: Matcher, questions: Sequence[LabelledQuestion], own: set[str]) -> Result:
    started = time.perf_counter()
    report = evaluate(matcher, questions)
    seconds = time.perf_counter() - started
    business = {q.question for q in questions if q.expected is None and "business" in q.tags}
    others = sum(q.expected is None and q.question not in business for q in questions)
    shown_others = 0
    where = Where()
    for mistake in report.mistakes:
        candidates = mistake["candidates"]
        assert isinstance(candidates, list)
        first = candidates[0][0] if candidates else None
        inside = first in own
        action = mistake["action"]
        if mistake["expected"] == "none":
            if mistake["question"] in business and not inside:
                where.business_shown_distractor += 1
            elif inside:
                where.oos_shown_own += 1
            else:
                where.oos_shown_distractor += 1
            shown_others += mistake["question"] not in business
            continue
        if action == Action.ANSWER.value and first != mistake["expected"]:
            if inside:
                where.wrong_to_own += 1
            else:
                where.wrong_to_distractor += 1
        if action == Action.ESCALATE.value:
            where.missed_escalated += 1
        elif first == mistake["expected"]:
            continue
        elif inside:
            where.missed_to_own += 1
        else:
            where.missed_to_distractor += 1
    embedded = getattr(matcher, "embedded_questions", 0) / max(len(questions), 1)
    outside = 1.0 - shown_others / others if others else 0.0
    return Result(report.overall, where, seconds, embedded, round(outside, 4))


def _matchers(entries: Sequence[Entry], model: Embedder) -> tuple[tuple[str, Matcher, float], ...]:
    vectors = knowledge_vectors(model, entries)
    started = time.perf_counter()
    hybrid = HybridMatcher(entries, model, vectors, HYBRID_POLICY)
    hybrid_built = time.perf_counter() - started
    started = time.perf_counter()
    before = HybridMatcher(
        entries, model, vectors, HYBRID_POLICY, HybridWeights(near_duplicate=None)
    )
    before_built = time.perf_counter() - started
    started = time.perf_counter()
    lexical = FuzzyMatcher(entries, LEXICAL_POLICY)
    lexical_built = time.perf_counter() - started
    return (
        ("hybrid", hybrid, hybrid_built),
        ("hybrid, whitening as before", before, before_built),
        ("lexical", lexical, lexical_built),
    )


HEADER = (
    "| set | base | matcher | hit@1 | hit@3 | auto-answer | wrong | oos escalated "
    "| oos escalated, business left out | missed → distractor | missed → own entry "
    "| missed → escalated | wrong → distractor | business oos shown a distractor "
    "| build s | p50 ms |"
)


def row(set_name: str, base: str, matcher: str, result: Result, built: float) -> str:
    s, w = result.scores, result.where
    return (
        f"| {set_name} | {base} | {matcher} | {s.hit_at_1:.3f} | {s.hit_at_3:.3f} | "
        f"{s.auto_answer:.3f} | {s.wrong_answer:.3f} | {s.out_of_scope_escalated:.3f} | "
        f"{result.oos_escalated_not_business:.3f} | "
        f"{w.missed_to_distractor} | {w.missed_to_own} | {w.missed_escalated} | "
        f"{w.wrong_to_distractor} | {w.business_shown_distractor} | {built:.1f} | "
        f"{s.latency_p50_ms:.1f} |"
    )


def shipped(model: Embedder, distractors: list[Entry]) -> list[str]:
    lines = [HEADER, "|---" * (HEADER.count("|") - 1) + "|"]
    for qset in question_sets():
        own = {e.id for e in qset.entries}
        question_vectors(model, [q.question for q in qset.questions])
        for base, entries in (
            ("alone", qset.entries),
            (f"+ {len(distractors):,} distractors", [*qset.entries, *distractors]),
        ):
            for name, matcher, built in _matchers(entries, model):
                result = run(matcher, qset.questions, own)
                lines.append(row(qset.name, base, name, result, built))
                print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="distractor entries")
    parser.add_argument("--diagnose", action="store_true", help="measure each suspect apart")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    threads = int(os.environ.get("BENCH_THREADS", "2"))
    model = CachedEmbedder(embedder(threads))
    distractors = distractor_entries(args.size)
    started = time.perf_counter()
    knowledge_vectors(model, distractors)
    print(f"distractor vectors ready in {time.perf_counter() - started:.0f} s", flush=True)
    command = "python -m benchmarks.scale" + (" --diagnose" if args.diagnose else "")
    sections = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `{command}`, "
        f"{len(distractors):,} distractor entries "
        f"({sum(len(e.phrasings) for e in distractors):,} phrasings and titles).",
        "",
        *shipped(model, distractors),
        "",
    ]
    if args.diagnose:
        from benchmarks.scale_diagnosis import diagnose

        sets = [(s.name, s.entries, s.questions) for s in question_sets()]
        sections += diagnose(model, distractors, sets)
    save_cache(model.model)
    if not args.no_write:
        LATEST.parent.mkdir(exist_ok=True)
        LATEST.write_text("\n".join(sections) + "\n", encoding="utf-8")
    print("\n".join(sections))


if __name__ == "__main__":
    main()
