"""The lexical matcher: fuzzy word alignment between a question and every phrasing.

An entry scores its best phrasing (or title). A phrasing's score leans on the
better-covered side (see ``helpdesk.matching.lexical``): a short question inside a
long phrasing and a question wrapped in greetings and context both score well.

Not ``WRatio`` with ``default_process``: measured on a multilingual probe it gave
off-topic and correct matches the same median score, because short queries switch
it to partial matching.
"""

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz

from helpdesk.domain.knowledge import Entry
from helpdesk.domain.questions import Action, Candidate, Match
from helpdesk.matching.decision import MatchPolicy, decide
from helpdesk.matching.lexical import LexicalIndex
from helpdesk.matching.normalize import normalize_text

__all__ = ["FuzzyMatcher"]

MAIN = 0.65  # weight of the better-covered side
NEAR_DUPLICATE = 85.0  # whole-string similarity that means "the same question"
CANDIDATES = 5
_RESCORED = 10  # best phrasings also compared as whole strings


class FuzzyMatcher:
    """Matches questions against published entries; built once per knowledge-base revision."""

    def __init__(self, entries: Sequence[Entry], policy: MatchPolicy | None = None) -> None:
        self.policy = policy or MatchPolicy()
        self._entries = [e for e in entries if e.is_published]
        texts: list[str] = []
        groups: list[int] = []
        for index, entry in enumerate(self._entries):
            for text in dict.fromkeys(normalize_text(p) for p in entry.phrasings):
                if text:
                    texts.append(text)
                    groups.append(index)
        self._texts = texts
        self._groups = np.array(groups, dtype=np.int64)
        self.index = LexicalIndex(texts, groups)

    @property
    def size(self) -> int:
        """How many entries can be matched."""
        return len(self._entries)

    @property
    def entries(self) -> Sequence[Entry]:
        return self._entries

    def match(self, question: str) -> Match:
        normalized = normalize_text(question)
        scores = self.entry_scores(normalized)
        return Match(normalized, *self.decide_scores(scores))

    def entry_scores(self, normalized: str) -> NDArray[np.float64]:
        """0-100 for every entry, for an already normalised question."""
        scores = np.zeros(len(self._entries), dtype=np.float64)
        found = self.index.score(normalized)
        if not len(found.phrasings):
            return scores
        better = np.maximum(found.recall, found.precision)
        worse = np.minimum(found.recall, found.precision)
        phrasing_scores = 100.0 * (MAIN * better + (1 - MAIN) * worse)
        # A question typed as one of the phrasings, give or take a few letters.
        best = (
            np.argpartition(-phrasing_scores, _RESCORED)[:_RESCORED]
            if len(phrasing_scores) > _RESCORED
            else np.arange(len(phrasing_scores))
        )
        for position in best:
            text = self._texts[int(found.phrasings[position])]
            whole = fuzz.ratio(normalized, text, score_cutoff=NEAR_DUPLICATE)
            phrasing_scores[position] = max(phrasing_scores[position], whole)
        np.maximum.at(scores, self._groups[found.phrasings], phrasing_scores)
        return scores

    def decide_scores(self, scores: NDArray[np.float64]) -> tuple[Action, tuple[Candidate, ...]]:
        """The decision and the best candidates for per-entry scores (0-100)."""
        count = min(CANDIDATES, int(np.count_nonzero(scores)))
        if count == 0:
            return decide((), self.policy), ()
        top = np.argpartition(-scores, count - 1)[:count]
        ranked = sorted(top, key=lambda i: (-scores[i], self._entries[i].id))
        candidates = tuple(
            Candidate(self._entries[i].id, self._entries[i].title, round(float(scores[i]), 1))
            for i in ranked
        )
        return decide(candidates, self.policy), candidates
