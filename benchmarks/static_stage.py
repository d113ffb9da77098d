"""A static first stage for the hybrid matcher, measured: how many questions could it
settle without running the model, and what would that cost in quality?

    .venv/bin/python -m benchmarks.static_stage

The static embedding is distilled from the same model: every word of the knowledge base
(titles, phrasings and answers, in all their languages) is embedded once on its own, as
a question; a question's static vector is the mean of its known words' vectors, each
weighted by how rare the word is in the base (a/(a + p(w)), as in smooth inverse
frequency), and scaled to unit length. Words the base does not hold are left out: that
is the price of not running the model.

The hybrid matcher then runs as it ships (the same entry vectors, weights and
thresholds), once with the model's question vector and once with the static one. The
first stage answers alone only when the static hybrid would answer with a score at least
``extra`` points above the shipped threshold; every other question goes to the model.
For each ``extra``: the share of the questions it settles, and the quality of the two
stages together, on the project's labelled questions and on the unseen set (written by
someone else; its base's own words make its static vectors). The lexical shortcut (a
question its lexical scores settle) needs neither and is left as it is.
"""

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from benchmarks.common import (
    CachedEmbedder,
    embed_cached,
    embedder,
    knowledge_vectors,
    save_cache,
)
from benchmarks.scale import question_sets
from benchmarks.systems import HelpdeskHybrid, ScoredMatcher
from helpdesk.domain.knowledge import Entry
from helpdesk.domain.questions import Action, Match
from helpdesk.matching.decision import HYBRID_POLICY
from helpdesk.matching.semantic import Embedder, Vectors
from helpdesk.services.evaluation import LabelledQuestion, Scores, evaluate

_WORD = re.compile(r"\w+")
_SMOOTHING = 1e-3  # SIF's a: a word seen this often weighs half as much as a rare one
EXTRAS = (0.0, 5.0, 10.0, 15.0, 20.0)


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def base_texts(entries: Sequence[Entry]) -> list[str]:
    texts = []
    for entry in entries:
        for translation in entry.translations:
            texts.extend([translation.title, translation.body])
        texts.extend([entry.title, entry.body, *entry.phrasings])
    return texts


class StaticEmbedder:
    """Question vectors from word vectors: no model at question time."""

    def __init__(self, model: Embedder, entries: Sequence[Entry]) -> None:
        counts: Counter[str] = Counter(w for text in base_texts(entries) for w in words(text))
        vocabulary = sorted(counts)
        vectors = embed_cached(model, [("question", w) for w in vocabulary])
        total = sum(counts.values())
        self._vectors = dict(zip(vocabulary, vectors, strict=True))
        self._weights = {w: _SMOOTHING / (_SMOOTHING + counts[w] / total) for w in vocabulary}
        self.model = f"static-{model.model}"
        self.dimensions = model.dimensions
        self.words = len(vocabulary)
        self.known: list[float] = []  # per question: the share of its words the base holds

    def embed_questions(self, texts: Sequence[str]) -> Vectors:
        rows = []
        for text in texts:
            found = [w for w in words(text) if w in self._vectors]
            self.known.append(len(found) / max(1, len(words(text))))
            if not found:
                rows.append(np.zeros(self.dimensions, dtype=np.float32))
                continue
            mean = np.sum([self._weights[w] * self._vectors[w] for w in found], axis=0)
            norm = float(np.linalg.norm(mean))
            rows.append((mean / norm if norm else mean).astype(np.float32))
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.dimensions)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        raise AssertionError("entry vectors are the model's")


class TwoStages:
    """The static hybrid answers what it is sure of; the model's hybrid the rest."""

    def __init__(
        self, first: ScoredMatcher, static: StaticEmbedder, second: ScoredMatcher, extra: float
    ) -> None:
        self.first, self.static, self.second, self.extra = first, static, second, extra
        self.size = second.size
        self.policy = second.policy
        self.settled = 0
        self.asked = 0

    def match(self, question: str) -> Match:
        embedded = len(self.static.known)
        found = self.first.match(question)
        if len(self.static.known) == embedded:
            return found  # the lexical scores settled it: no model either way
        self.asked += 1
        sure = HYBRID_POLICY.answer_at + self.extra
        if found.action is Action.ANSWER and found.candidates[0].score >= sure:
            self.settled += 1
            return found
        return self.second.match(question)


def _row(name: str, s: Scores, settled: str) -> str:
    return (
        f"| {name} | {settled} | {s.hit_at_1:.3f} | {s.auto_answer:.3f} | "
        f"{s.wrong_answer:.3f} | {s.out_of_scope_escalated:.3f} |"
    )


def measure(
    label: str, model: Embedder, entries: list[Entry], questions: list[LabelledQuestion]
) -> list[str]:
    vectors = knowledge_vectors(model, entries)
    full = ScoredMatcher(
        HelpdeskHybrid(entries, CachedEmbedder(model), vectors), entries, HYBRID_POLICY
    )
    static = StaticEmbedder(model, entries)
    alone = ScoredMatcher(HelpdeskHybrid(entries, static, vectors), entries, HYBRID_POLICY)
    lines = [_row(f"{label}: the model for every question", evaluate(full, questions).overall, "–")]
    static_scores = evaluate(alone, questions).overall
    known = float(np.mean(static.known)) if static.known else 0.0
    lines.append(_row(f"{label}: static vectors alone", static_scores, "all"))
    for extra in EXTRAS:
        stages = TwoStages(alone, static, full, extra)
        scores = evaluate(stages, questions).overall
        share = f"{stages.settled / stages.asked:.0%}"
        lines.append(_row(f"{label}: static first, sure at +{extra:g}", scores, share))
    lines.append(
        f"| {label}: {static.words} words embedded; a question's words known on average: "
        f"{known:.0%} | | | | | |"
    )
    return lines


def main() -> None:
    model = embedder()
    lines = [
        "| matcher | of those needing the model, settled without it | hit@1 | auto-answer "
        "| wrong | oos escalated |",
        "|---|---|---|---|---|---|",
    ]
    for questions in question_sets():
        lines += measure(questions.name, model, questions.entries, questions.questions)
    save_cache(model.model)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
