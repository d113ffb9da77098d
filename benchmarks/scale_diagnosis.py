"""Why a large base of similar entries costs answers: each suspect measured apart.

The hybrid's parts are computed once per question (lexical scores of every entry, the
question's vector, the base's vectors) and recombined here the way
``helpdesk.matching.hybrid`` combines them, so that one change at a time can be measured
on every set in seconds: where whitening is learned and how strongly, the lexical
shortcut, the lexical share, the semantic views, the thresholds.
``check_against_matcher`` keeps this honest: the shipped combination must give what the
matcher itself gives.

It recombines the matcher as it was when whitening's weights were diagnosed (one answer
view per entry, no centring); the passages of answers and the centring that came after
are measured by ``benchmarks.scale`` and ``benchmarks.calibrate``, which use the matcher
itself.
"""

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from benchmarks.calibrate import calibrate, score
from benchmarks.common import knowledge_vectors, question_vectors
from helpdesk.domain.knowledge import Entry
from helpdesk.matching.decision import HYBRID_POLICY, MatchPolicy
from helpdesk.matching.fuzzy import FuzzyMatcher
from helpdesk.matching.hybrid import HybridMatcher, HybridWeights, phrasing_key
from helpdesk.matching.normalize import normalize_text
from helpdesk.matching.semantic import Embedder, Vectors
from helpdesk.matching.whitening import (
    KEPT,
    NEAR_DUPLICATE,
    Transform,
    apply,
    within_entry_whitening,
)
from helpdesk.services.evaluation import LabelledQuestion

Floats = NDArray[np.float64]
Matrix = NDArray[np.float32]


@dataclass
class Prepared:
    """One question set against one base, with everything the hybrid computes."""

    name: str
    entries: list[Entry]
    own: int  # the first ``own`` entries are the set's own base; the rest distractors
    expected: NDArray[np.int64]  # entry index per question, -1 out of scope
    business: NDArray[np.bool_]  # out of scope, but about ordinary municipal business
    lexical: Floats  # (questions, entries), 0-100
    phrasings: Matrix  # raw vectors of titles and phrasings
    owners: NDArray[np.int64]
    answers: Matrix  # raw answer vectors, zero rows where none
    has_answer: NDArray[np.bool_]
    questions: Matrix
    texts: list[str]


def prepare(
    name: str,
    own: Sequence[Entry],
    distractors: Sequence[Entry],
    questions: Sequence[LabelledQuestion],
    vectors: Mapping[str, Vectors],
    asked: Matrix,
) -> Prepared:
    """``vectors`` as the matcher takes them, ``asked`` the questions' vectors."""
    entries = [*own, *distractors]
    rows, owners = [], []
    for index, entry in enumerate(entries):
        for text in entry.phrasings:
            rows.append(vectors[phrasing_key("question", text)])
            owners.append(index)
    dimensions = asked.shape[1]
    answers = np.zeros((len(entries), dimensions), np.float32)
    has_answer = np.zeros(len(entries), bool)
    for index, entry in enumerate(entries):
        vector = vectors.get(phrasing_key("answer", entry.id))
        if vector is not None:
            answers[index], has_answer[index] = vector, True
    ids = {e.id: i for i, e in enumerate(entries)}
    lexical = FuzzyMatcher(entries)
    return Prepared(
        name=name,
        entries=entries,
        own=len(own),
        expected=np.array([ids[q.expected] if q.expected else -1 for q in questions]),
        business=np.array([q.expected is None and "business" in q.tags for q in questions]),
        lexical=np.array([lexical.entry_scores(normalize_text(q.question)) for q in questions]),
        phrasings=np.array(rows, np.float32),
        owners=np.array(owners, np.int64),
        answers=answers,
        has_answer=has_answer,
        questions=asked,
        texts=[q.question for q in questions],
    )


# -- the semantic score, as hybrid.py computes it -------------------------------------------


def learn(
    p: Prepared,
    strength: float = 1.0,
    only_own: bool = False,
    near_duplicate: float | None = NEAR_DUPLICATE,
    kept: int = KEPT,
) -> Transform | None:
    """Whitening learned from the whole base, or from the set's own entries only;
    ``near_duplicate`` None counts every entry alike (as before the weights)."""
    rows = p.owners < p.own if only_own else np.ones(len(p.owners), bool)
    return within_entry_whitening(p.phrasings[rows], p.owners[rows], strength, near_duplicate, kept)


def self_check(p: Prepared, strength: float, sample: int = 1500) -> float:
    """The phrasing self-check: half the entries teach the transform, and each sampled
    phrasing of the other half must find a phrasing of its own entry as its nearest
    neighbour (itself left out). Uses nothing but the base."""
    rng = np.random.default_rng(0)
    teaching = (rng.random(len(p.entries)) < 0.5)[p.owners]
    transform = (
        within_entry_whitening(p.phrasings[teaching], p.owners[teaching], strength, None)
        if strength > 0
        else None
    )
    moved = apply(transform, p.phrasings)
    counts = np.bincount(p.owners)
    candidates = np.flatnonzero(~teaching & (counts[p.owners] >= 2))
    chosen = rng.choice(candidates, min(sample, len(candidates)), replace=False)
    similarities = moved[chosen] @ moved.T
    similarities[np.arange(len(chosen)), chosen] = -2.0
    return float((p.owners[similarities.argmax(axis=1)] == p.owners[chosen]).mean())


@dataclass(frozen=True)
class Views:
    closest: float = 1.0
    centroid: float = 1.0
    answer: float = 1.0


def semantic(p: Prepared, transform: Transform | None, views: Views = Views()) -> Floats:
    """(questions, entries) cosine: the weighted mean of the three views."""
    phrasings = apply(transform, p.phrasings)
    questions = apply(transform, p.questions)
    entries = len(p.entries)
    closest = np.full((len(questions), entries), -1.0)
    order = np.argsort(p.owners, kind="stable")
    present, starts = np.unique(p.owners[order], return_index=True)
    for start in range(0, len(questions), 64):
        block = questions[start : start + 64] @ phrasings[order].T
        closest[start : start + 64, present] = np.maximum.reduceat(block, starts, axis=1)
    sums = np.zeros((entries, phrasings.shape[1]))
    sums[present] = np.add.reduceat(phrasings[order].astype(np.float64), starts, axis=0)
    norms = np.linalg.norm(sums, axis=1)
    has_centroid = norms > 0
    sums[has_centroid] /= norms[has_centroid, None]
    centroid = questions @ sums.astype(np.float32).T
    answer = questions @ apply(transform, p.answers).T
    share_centroid = np.where(has_centroid, views.centroid, 0.0)
    share_answer = np.where(p.has_answer, views.answer, 0.0)
    total = views.closest + share_centroid + share_answer
    mixed: Floats = (
        views.closest * closest + share_centroid * centroid + share_answer * answer
    ) / total
    return mixed


def combine(lexical: Floats, cosine: Floats, w: HybridWeights, decisive: bool = True) -> Floats:
    mapped = np.clip((cosine - w.low) / (w.high - w.low), 0.0, 1.0) * 100.0
    hybrid: Floats = w.lexical * lexical + (1.0 - w.lexical) * mapped
    if decisive:
        ordered = np.sort(lexical, axis=1)
        shortcut = (ordered[:, -1] >= w.decisive) & (
            ordered[:, -1] - ordered[:, -2] >= w.decisive_margin
        )
        hybrid[shortcut] = lexical[shortcut]
    return hybrid


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Measured:
    hit1: float
    hit3: float
    auto: float
    wrong: float
    oos: float
    ranked_first: float  # the right entry first, whatever the decision (ranking alone)
    missed_to_distractor: int
    missed_to_own: int
    missed_escalated: int
    wrong_to_distractor: int

    def cells(self) -> str:
        return (
            f"{self.hit1:.3f} | {self.auto:.3f} | {self.wrong:.3f} | {self.oos:.3f} | "
            f"{self.ranked_first:.3f} | {self.missed_to_distractor}/{self.missed_to_own}/"
            f"{self.missed_escalated}"
        )


def measure(p: Prepared, scores: Floats, policy: MatchPolicy = HYBRID_POLICY) -> Measured:
    rounded = np.round(scores, 1)
    best = np.argmax(scores, axis=1)
    ordered = np.sort(rounded, axis=1)
    first, second = ordered[:, -1], ordered[:, -2]
    top3 = np.argsort(-scores, axis=1)[:, :3]
    answered = (first >= policy.answer_at) & (first - second >= policy.margin)
    escalated = ~answered & (first < policy.suggest_at)
    inside = p.expected >= 0
    right = best == p.expected
    in3 = (top3 == p.expected[:, None]).any(axis=1)
    missed = inside & ~(right & ~escalated)
    to_distractor = best >= p.own
    wrong = answered & ~right
    counted_outside = ~inside
    if p.own < len(p.entries):
        # Among municipal distractors, questions about municipal business have answers.
        counted_outside = ~inside & ~p.business
        wrong &= ~(p.business & to_distractor)
    return Measured(
        hit1=float((right & ~escalated)[inside].mean()),
        hit3=float((in3 & ~escalated)[inside].mean()),
        auto=float((answered & right)[inside].mean()),
        wrong=float(wrong.mean()),
        oos=float(escalated[counted_outside].mean()),
        ranked_first=float(right[inside].mean()),
        missed_to_distractor=int((missed & ~escalated & to_distractor).sum()),
        missed_to_own=int((missed & ~escalated & ~to_distractor).sum()),
        missed_escalated=int((missed & escalated).sum()),
        wrong_to_distractor=int((wrong & to_distractor).sum()),
    )


def refit(p: Prepared, scores: Floats) -> MatchPolicy:
    """Thresholds calibrated on this set and base (in-sample: how much thresholds explain);
    among the distractors, without the questions about municipal business."""
    rows = np.arange(len(p.expected))
    if p.own < len(p.entries):
        rows = rows[~p.business]
    (answer_at, margin, suggest_at), _ = calibrate(score(scores, p.expected), rows)
    return MatchPolicy(answer_at=answer_at, suggest_at=suggest_at, margin=margin)


def views(p: Prepared, transform: Transform | None) -> dict[str, Floats]:
    """Each semantic view alone, to see which the distractors crowd."""
    return {
        "closest phrasing": semantic(p, transform, Views(1.0, 0.0, 0.0)),
        "centroid": semantic(p, transform, Views(1e-9, 1.0, 0.0)),
        "answer": semantic(p, transform, Views(1e-9, 0.0, 1.0)),
        "the three together (the semantic score)": semantic(p, transform),
        "own-entry whitening, the three together (not possible in the product)": semantic(
            p, learn(p, only_own=True, near_duplicate=None)
        ),
    }


Variant = Callable[[Prepared], Floats]
# The phrasing self-check's score per strength, per set and base, as the variants ran it.
CHECKS: dict[str, dict[float, float]] = {}
# Where near-duplicates start (cosine) and how many an entry may have and count fully.
GRID = ((0.95, 1), (0.95, 4), (0.95, 10), (0.96, 1), (0.96, 3), (0.96, 4), (0.97, 1), (0.97, 4))
STRENGTHS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def variants(shipped: HybridWeights) -> dict[str, Variant]:
    """Every change measured, by name; each gives the hybrid's scores for a set."""
    cache: dict[tuple[object, ...], Floats] = {}

    def cosine(p: Prepared, *key: object, **learning: object) -> Floats:
        if (p.name, *key) not in cache:
            cache[(p.name, *key)] = semantic(p, learn(p, **learning))  # type: ignore[arg-type]
        return cache[(p.name, *key)]

    def before(p: Prepared) -> Floats:
        return cosine(p, "before", near_duplicate=None)

    def hybrid(cos: Floats, p: Prepared, **changes: float) -> Floats:
        return combine(p.lexical, cos, dataclasses.replace(shipped, **changes))

    chosen: dict[str, float] = {}

    def by_self_check(p: Prepared) -> Floats:
        checks = {s: self_check(p, s) for s in STRENGTHS}
        chosen[p.name] = max(checks, key=checks.__getitem__)
        CHECKS[p.name] = checks
        return hybrid(
            cosine(p, "s", chosen[p.name], strength=chosen[p.name], near_duplicate=None), p
        )

    found: dict[str, Variant] = {
        "before: whitening counts every entry alike": lambda p: hybrid(before(p), p),
        "  whitening learned from the set's own entries only (not possible in the product)": (
            lambda p: hybrid(cosine(p, "own", only_own=True, near_duplicate=None), p)
        ),
        "  no whitening (cosines 0.78-0.95, calibrate.py's range without it)": lambda p: hybrid(
            semantic(p, None), p, low=0.78, high=0.95
        ),
    }

    def strong(p: Prepared, strength: float) -> Floats:
        return hybrid(cosine(p, "s", strength, strength=strength, near_duplicate=None), p)

    for strength in (0.5, 2.0, 4.0):
        found[f"  whitening strength {strength}"] = functools.partial(strong, strength=strength)
    found["  strength chosen per base by the phrasing self-check"] = by_self_check
    found["  no lexical shortcut"] = lambda p: combine(p.lexical, before(p), shipped, False)

    def shared(p: Prepared, share: float) -> Floats:
        return hybrid(before(p), p, lexical=share)

    for share in (0.0, 0.15):
        found[f"  lexical share {share}"] = functools.partial(shared, share=share)

    def weighed(p: Prepared, near: float, kept: int) -> Floats:
        return hybrid(cosine(p, "w", near, kept, near_duplicate=near, kept=kept), p)

    for near, kept in GRID:
        found[f"near-duplicates weighed: cosine {near}, kept {kept}"] = functools.partial(
            weighed, near=near, kept=kept
        )
    return found


def diagnose(
    model: Embedder,
    distractors: Sequence[Entry],
    sets: Sequence[tuple[str, list[Entry], list[LabelledQuestion]]],
) -> list[str]:
    """Every variant on every set, alone and with the distractors, as Markdown lines."""
    prepared: list[Prepared] = []
    for name, entries, questions in sets:
        asked = np.array(question_vectors(model, [q.question for q in questions]), np.float32)
        for suffix, extra in (("alone", ()), ("+ distractors", distractors)):
            vectors = knowledge_vectors(model, [*entries, *extra])
            prepared.append(prepare(f"{name} {suffix}", entries, extra, questions, vectors, asked))
            print(f"prepared {name} {suffix}", flush=True)
    shipped = HybridWeights()
    for p in prepared:
        check_against_matcher(p, model, combine(p.lexical, semantic(p, learn(p)), shipped))
    header = "| variant | " + " | ".join(p.name for p in prepared) + " |"
    lines = [
        "Each cell: hit@1 · auto-answer · wrong · out-of-scope escalated · right entry "
        "ranked first · misses to a distractor / to an own entry / escalated. With the "
        "distractors, out-of-scope questions about municipal business (which the distractors "
        "answer) are left out of the last two rates.",
        "",
        header,
        "|---" * (len(prepared) + 1) + "|",
    ]
    for name, variant in variants(shipped).items():
        cells = [measure(p, variant(p)).cells() for p in prepared]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    lines += ["", "The phrasing self-check per whitening strength (its choice in bold):", ""]
    lines += [
        "| set | " + " | ".join(str(s) for s in STRENGTHS) + " |",
        "|---" * (len(STRENGTHS) + 1) + "|",
    ]
    for name, checks in CHECKS.items():
        best = max(checks, key=checks.__getitem__)
        cells = [f"**{v:.3f}**" if s == best else f"{v:.3f}" for s, v in checks.items()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Semantic views alone, right entry ranked first (whitening as before / as now):",
        "",
    ]
    lines += [
        "| view | " + " | ".join(p.name for p in prepared) + " |",
        "|---" * (len(prepared) + 1) + "|",
    ]
    old = {p.name: views(p, learn(p, near_duplicate=None)) for p in prepared}
    new = {p.name: views(p, learn(p)) for p in prepared}
    for view in old[prepared[0].name]:
        cells = [
            f"{measure(p, old[p.name][view]).ranked_first:.3f} / "
            f"{measure(p, new[p.name][view]).ranked_first:.3f}"
            for p in prepared
        ]
        lines.append(f"| {view} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Thresholds calibrated on each set and base itself (in-sample, calibrate.py's rule):",
        "",
    ]
    lines += [
        "| whitening | set | answer_at | margin | suggest_at | cells |",
        "|---|---|---|---|---|---|",
    ]
    for label, near in (("before", None), ("now", NEAR_DUPLICATE)):
        for p in prepared:
            scores = combine(p.lexical, semantic(p, learn(p, near_duplicate=near)), shipped)
            policy = refit(p, scores)
            lines.append(
                f"| {label} | {p.name} | {policy.answer_at:.0f} | {policy.margin:.0f} | "
                f"{policy.suggest_at:.0f} | {measure(p, scores, policy).cells()} |"
            )
    return lines


def check_against_matcher(p: Prepared, model: Embedder, scores: Floats) -> None:
    """The recombined scores must be what HybridMatcher gives (first questions only)."""
    matcher = HybridMatcher(p.entries, model, knowledge_vectors(model, p.entries))
    for row, text in enumerate(p.texts[:40]):
        lexical, semantic_part = matcher.components(text)
        theirs = lexical if semantic_part is None else matcher.combine(lexical, semantic_part)
        assert np.allclose(scores[row], theirs, atol=1e-3), (p.name, row, text)
