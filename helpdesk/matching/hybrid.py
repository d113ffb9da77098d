"""The hybrid matcher: spelling (lexical) and meaning (embedding) together.

Each entry gets a lexical score (``FuzzyMatcher``, 0-100) and a semantic one: the mean
of the question's cosine similarity to three views of the entry (its closest phrasing,
the centroid of all its phrasings, and the closest passage of its answer), less a share
of the question's mean similarity to its nearest entries, mapped from [``low``, ``high``]
onto 0-100. The hybrid score is a weighted mean of the two.

Why the mean is taken off: how similar the model finds texts depends on the base (a
base whose every entry has nine translated answers scores its right entries about 25
points higher than one with English answers only), and on the question (a general
question about municipalities is close to every entry). How far an entry stands out
from the entries nearest to the question does not: thresholds calibrated on the
project's base alone then hold on a base written by someone else (benchmarks/SCALE.md).
Before comparing, every vector goes through a transform learned from the knowledge base
(whitening.py) that discounts what an entry's own phrasings differ in, mostly language.
Lexical matching is exact about names and rare words and robust to typos; the
embedding understands paraphrases and other languages. Off-topic questions score
low on both, which is what lets the hybrid reject them.

When the lexical score alone is already decisive (a near-copy of a phrasing, far
ahead of the rest), the embedding is skipped: it costs tens of milliseconds a
question, the lexical pass well under one.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from helpdesk.domain.knowledge import Entry
from helpdesk.domain.questions import Match
from helpdesk.matching.decision import MatchPolicy
from helpdesk.matching.fuzzy import FuzzyMatcher
from helpdesk.matching.normalize import normalize_text
from helpdesk.matching.semantic import Embedder, SemanticIndex, Vectors
from helpdesk.matching.whitening import NEAR_DUPLICATE, apply, within_entry_whitening

__all__ = ["PASSAGE_CHARACTERS", "HybridMatcher", "HybridWeights", "answer_texts", "phrasing_key"]

# An answer is compared passage by passage (whole sentences up to this length, each with
# the entry's title): officials ask about one detail of an answer, which one passage
# says better than the answer's first 1000 characters did (benchmarks/SCALE.md).
PASSAGE_CHARACTERS = 350
# Passages embedded per answer and language: the rest of a very long answer adds cost at
# every start of the bot more than it adds matches.
MAX_PASSAGES = 12
# Shorter answers ("See the entry on X.") say too little to compare a question with.
MEANINGFUL_ANSWER = 80
# What a question's similarity to an entry is compared with: its mean similarity to the
# entries closest to it (as in cross-domain similarity local scaling), not to the whole
# base. The whole base's mean follows what the base is mostly about: among 10,000
# entries on municipal services it fell for every question on other topics, which then
# all passed the thresholds (out-of-scope escalated 0.95 -> 0.35 on the project's set).
# 5, 10 and 20 measured: 20 did best on both sets, alone and among the distractors.
_NEAREST = 20
# That mean is estimated as if there were this many more entries of the base's typical
# similarity: a base of a few entries has no mean to speak of (with one entry, the
# question's mean would be its best score).
_PRIOR_ENTRIES = 3
# What the typical similarity is taken to be in a base of one entry: a question's mean
# similarity to the entries of the project's base and of the unseen one (0.90 to 0.92).
_UNRELATED = 0.9
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class HybridWeights:
    """How the two scores are combined; calibrated on tests/data (see benchmarks/)."""

    lexical: float = 0.30  # share of the lexical score in the hybrid score
    # The semantic score is the weighted mean of three similarities (an entry without an
    # answer worth embedding uses the other two).
    closest: float = 1.0  # to the entry's closest phrasing
    centroid: float = 1.0  # to the mean of its phrasings
    answer: float = 1.0  # to the closest passage of its answer
    # Share of the question's mean similarity to its nearest entries taken off each of
    # its similarities. Calibrated on the project's set alone (0.5, 0.6 and 0.75 tried):
    # 0.6 keeps wrong answers at or under 1 % and escalates over 90 % of out-of-scope
    # questions on both the project's set and the unseen one; 0.75 answers more of the
    # unseen set but wrongly 1.3 to 3 % of the time.
    centering: float = 0.6
    low: float = 0.304  # centred similarity at or below which texts are unrelated
    high: float = 0.404  # centred similarity at or above which they say the same thing
    # How much of the space the knowledge base's own phrasings teach the matcher to
    # ignore (see whitening.py): the regularisation, as a multiple of their mean variance;
    # 0 compares the model's vectors as they are.
    whitening: float = 1.0
    # Entries whose phrasings' mean is this close (cosine) to many others' teach whitening
    # little (see whitening.py); None lets every entry teach alike, as before.
    near_duplicate: float | None = NEAR_DUPLICATE
    # A lexical score this high, this far ahead of the runner-up, needs no embedding: on
    # tests/data none of the questions it let through was answered wrongly (at 60 and 15
    # neither; these leave room).
    decisive: float = 70.0
    decisive_margin: float = 25.0


def phrasing_key(kind: str, text: str) -> str:
    """What a cached vector is stored under: the text and how it was embedded."""
    return f"{kind}\x00{text}"


def answer_texts(entry: Entry) -> tuple[str, ...]:
    """What an entry's answer is compared through: its passages, each after the title,
    in each language it is written in (an official asking in Albanian is closest to the
    Albanian answer). None for an answer too short to say what it is about."""
    return tuple(
        f"{version.title}\n\n{passage}"
        for version in entry.versions.values()
        if len(version.body) >= MEANINGFUL_ANSWER
        for passage in passages(version.body)
    )


def passages(body: str) -> list[str]:
    """Whole sentences gathered up to ``PASSAGE_CHARACTERS`` (a longer sentence stands
    alone), never across a paragraph; at most ``MAX_PASSAGES``."""
    found: list[str] = []
    for paragraph in _PARAGRAPH.split(body):
        current = ""
        for sentence in _SENTENCE_END.split(paragraph.strip()):
            if current and len(current) + 1 + len(sentence) > PASSAGE_CHARACTERS:
                found.append(current)
                current = sentence
            else:
                current = f"{current} {sentence}".strip()
        if current:
            found.append(current)
    return found[:MAX_PASSAGES]


class HybridMatcher:
    """Lexical and semantic scores combined; falls back to lexical for entries without vectors."""

    def __init__(
        self,
        entries: Sequence[Entry],
        embedder: Embedder,
        vectors: Mapping[str, Vectors],
        policy: MatchPolicy | None = None,
        weights: HybridWeights | None = None,
    ) -> None:
        """``vectors`` maps ``phrasing_key("question", phrasing)`` and
        ``phrasing_key("answer", text)`` (``answer_texts``) to unit vectors (see
        ``vectors_needed``)."""
        self.policy = policy or MatchPolicy()
        self.weights = weights or HybridWeights()
        self.lexical = FuzzyMatcher(entries, self.policy)
        self._embedder = embedder
        published = self.lexical.entries
        rows: list[Vectors] = []
        groups: list[int] = []
        for index, entry in enumerate(published):
            for text in entry.phrasings:
                vector = vectors.get(phrasing_key("question", text))
                if vector is not None:
                    rows.append(vector)
                    groups.append(index)
        dimensions = embedder.dimensions
        owners = np.array(groups, dtype=np.int64)
        matrix = np.array(rows, dtype=np.float32).reshape(-1, dimensions)
        self._transform = within_entry_whitening(
            matrix, owners, self.weights.whitening, self.weights.near_duplicate
        )
        matrix = apply(self._transform, matrix)
        self._phrasings = SemanticIndex(matrix, owners, len(published))
        self._centroids, self._has_centroid = _centroids(matrix, owners, len(published))
        answer_rows: list[Vectors] = []
        answer_owners: list[int] = []
        for index, entry in enumerate(published):
            for text in answer_texts(entry):
                vector = vectors.get(phrasing_key("answer", text))
                if vector is not None:
                    answer_rows.append(vector)
                    answer_owners.append(index)
        self._has_answer = np.bincount(answer_owners, minlength=len(published)) > 0
        # An entry's answer in each of its languages; the closest one counts.
        self._answers = SemanticIndex(
            apply(
                self._transform,
                np.array(answer_rows, dtype=np.float32).reshape(-1, dimensions),
            ),
            np.array(answer_owners, dtype=np.int64),
            len(published),
        )
        self._typical = _typical_similarity(matrix, owners, self._centroids, self._has_centroid)
        self.embedded_questions = 0  # how often the embedding was needed (for benchmarks)

    @staticmethod
    def vectors_needed(entries: Sequence[Entry]) -> dict[str, tuple[str, str]]:
        """Every vector the matcher wants: key → (kind, text to embed). Phrasings are
        embedded like questions (they are questions), answers as passages."""
        needed: dict[str, tuple[str, str]] = {}
        for entry in entries:
            if not entry.is_published:
                continue
            for text in entry.phrasings:
                needed[phrasing_key("question", text)] = ("question", text)
            for text in answer_texts(entry):
                needed[phrasing_key("answer", text)] = ("answer", text)
        return needed

    @property
    def size(self) -> int:
        return self.lexical.size

    def match(self, question: str) -> Match:
        normalized = normalize_text(question)
        lexical, semantic = self.components(question, normalized)
        scores = lexical if semantic is None else self.combine(lexical, semantic)
        return Match(normalized, *self.lexical.decide_scores(scores))

    def components(
        self, question: str, normalized: str | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
        """Lexical scores (0-100) and semantic similarities (cosine) per entry; no semantic
        part when the lexical one is decisive or the question has no words at all."""
        normalized = normalize_text(question) if normalized is None else normalized
        lexical = self.lexical.entry_scores(normalized)
        if not normalized or self._decisive(lexical):
            return lexical, None
        return lexical, self._semantic(question)

    def combine(
        self, lexical: NDArray[np.float64], semantic: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """The hybrid score from lexical scores (0-100) and semantic similarities (cosine)."""
        w = self.weights
        nearest = min(_NEAREST, len(semantic))
        closest = np.partition(semantic, len(semantic) - nearest)[len(semantic) - nearest :]
        typical = (float(closest.sum()) + _PRIOR_ENTRIES * self._typical) / (
            nearest + _PRIOR_ENTRIES
        )
        centred = semantic - w.centering * typical
        mapped = np.clip((centred - w.low) / (w.high - w.low), 0.0, 1.0) * 100.0
        combined: NDArray[np.float64] = w.lexical * lexical + (1.0 - w.lexical) * mapped
        return combined

    def _semantic(self, question: str) -> NDArray[np.float64]:
        self.embedded_questions += 1
        vector = apply(self._transform, self._embedder.embed_questions([question])[0])
        closest = self._phrasings.entry_similarities(vector)
        centroid = (self._centroids @ vector).astype(np.float64)
        answer = self._answers.entry_similarities(vector)
        w = self.weights
        # An entry lacking a view is scored on the views it has.
        share_centroid = np.where(self._has_centroid, w.centroid, 0.0)
        share_answer = np.where(self._has_answer, w.answer, 0.0)
        total = w.closest + share_centroid + share_answer
        mixed: NDArray[np.float64] = (
            w.closest * closest + share_centroid * centroid + share_answer * answer
        ) / total
        return mixed

    def _decisive(self, lexical: NDArray[np.float64]) -> bool:
        if len(lexical) == 0:
            return False
        ordered = np.sort(lexical)
        best = float(ordered[-1])
        runner_up = float(ordered[-2]) if len(ordered) > 1 else 0.0
        w = self.weights
        return best >= w.decisive and best - runner_up >= w.decisive_margin


def _typical_similarity(
    phrasings: Vectors,
    owners: NDArray[np.int64],
    centroids: Vectors,
    present: NDArray[np.bool_],
    sample: int = 2048,
) -> float:
    """How similar a phrasing of this base typically is to another entry's centroid: what
    a question's mean similarity to the base is shrunk towards. Evenly spaced phrasings
    stand for all of them in a large base."""
    if len(phrasings) == 0 or int(present.sum()) < 2:
        return _UNRELATED
    rows = np.unique(np.linspace(0, len(phrasings) - 1, min(sample, len(phrasings))).astype(int))
    similarities = phrasings[rows] @ centroids[present].T
    others = owners[rows, None] != np.flatnonzero(present)[None, :]
    return float(similarities[others].mean())


def _centroids(
    vectors: Vectors, groups: NDArray[np.int64], entries: int
) -> tuple[Vectors, NDArray[np.bool_]]:
    """Each entry's phrasing vectors averaged and scaled back to unit length; zero rows
    (and False) for entries without vectors."""
    sums = np.zeros((entries, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, groups, vectors)
    norms = np.linalg.norm(sums, axis=1)
    present = norms > 0
    sums[present] /= norms[present, None]
    return sums.astype(np.float32), present
