"""A word-level fuzzy index over phrasings, built for thousands of entries.

Each phrasing is compared word by word with the question: every word of one is
aligned with its closest word of the other (rapidfuzz's normalised Indel
similarity absorbs typos; a long shared beginning absorbs the endings Slavic
languages add: savjet/savjeta/savjetu, ukljuciti/ukljucivanje). Words are weighted
by how specific they are to an entry (inverse entry frequency; function words and
greetings weigh little). *Recall* is how much of the phrasing the question covers,
*precision* how much of the question the phrasing explains.

Only phrasings that share a word (or a near-spelling of one) with the question are
touched, through an inverted index; similar spellings are found through a
character-trigram index of the vocabulary. So the cost of a question grows with
the postings of its words, not with the size of the knowledge base.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz

from helpdesk.matching.normalize import tokens
from helpdesk.matching.stopwords import STOPWORDS

__all__ = ["LexicalIndex", "LexicalScores"]

WORD_CUTOFF = 78.0  # below this two words are different words, not spellings of one
SHORT_WORD = 3  # words this short must match exactly ("za" is not "da")
STOPWORD_WEIGHT = 0.15
PREFIX = 5  # a shared beginning this long, most of the shorter word: the same word inflected
INFLECTED = 0.9  # the similarity given to such a pair
_TRIGRAM_SHARE = 0.3  # a vocabulary word must share this part of a word's trigrams to be tried
_CACHE_LIMIT = 50_000

_Ids = NDArray[np.int64]
_Floats = NDArray[np.float64]


@dataclass(frozen=True)
class LexicalScores:
    """Recall and precision of every phrasing the question touched (others are 0)."""

    phrasings: _Ids
    recall: _Floats
    precision: _Floats


def _trigrams(word: str) -> set[str]:
    padded = f"#{word}#"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _csr(rows: list[list[int]]) -> tuple[_Ids, _Ids]:
    """Lists of ids as (offsets, flat values)."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.fromiter((v for r in rows for v in r), dtype=np.int64, count=int(offsets[-1]))
    return offsets, flat


def _gather(offsets: _Ids, flat: _Ids, keys: _Ids) -> tuple[_Ids, _Ids]:
    """The values of several rows at once, with the position in ``keys`` each came from."""
    starts, ends = offsets[keys], offsets[keys + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    owner = np.repeat(np.arange(len(keys)), lengths)
    within = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return flat[np.repeat(starts, lengths) + within], owner


class LexicalIndex:
    def __init__(self, phrasings: Sequence[str], groups: Sequence[int]) -> None:
        """``phrasings`` are normalised texts; ``groups[i]`` is the entry phrasing ``i`` belongs
        to (word specificity is counted per entry, not per phrasing)."""
        vocab: dict[str, int] = {}
        words_of: list[list[int]] = []
        group_words: dict[int, set[int]] = {}
        for text, group in zip(phrasings, groups, strict=True):
            ids = [vocab.setdefault(w, len(vocab)) for w in dict.fromkeys(tokens(text))]
            words_of.append(ids)
            group_words.setdefault(group, set()).update(ids)
        self.vocab = vocab
        self._words = list(vocab)
        entries = max(len(group_words), 1)
        frequency = np.zeros(len(vocab), dtype=np.float64)
        for members in group_words.values():
            frequency[list(members)] += 1
        specificity = np.log1p(entries / np.maximum(frequency, 1))
        damp = np.array(
            [STOPWORD_WEIGHT if w in STOPWORDS or w.isdigit() else 1.0 for w in self._words]
        )
        self.weight: _Floats = specificity * damp
        # Words a question uses that no entry knows weigh like a fairly specific word:
        # "building permit" must pull a question away from every entry.
        self.unknown_weight = float(np.median(self.weight)) if len(vocab) else 1.0

        self.size = len(words_of)
        self._phrasing_weight = np.array(
            [float(self.weight[ids].sum()) if ids else 1.0 for ids in words_of]
        )
        postings: list[list[int]] = [[] for _ in vocab]
        for phrasing, ids in enumerate(words_of):
            for word_id in ids:
                postings[word_id].append(phrasing)
        self._post_offsets, self._post_flat = _csr(postings)

        trigram_ids: dict[str, int] = {}
        by_trigram: list[list[int]] = []
        self._trigram_count = np.zeros(len(vocab), dtype=np.int64)
        prefixes: dict[str, list[int]] = {}
        for word, word_id in vocab.items():
            grams = _trigrams(word)
            self._trigram_count[word_id] = len(grams)
            for gram in grams:
                gram_id = trigram_ids.setdefault(gram, len(trigram_ids))
                if gram_id == len(by_trigram):
                    by_trigram.append([])
                by_trigram[gram_id].append(word_id)
            if len(word) >= PREFIX:
                prefixes.setdefault(word[:PREFIX], []).append(word_id)
        self._trigram_ids = trigram_ids
        self._tri_offsets, self._tri_flat = _csr(by_trigram)
        self._prefixes = prefixes
        self._cache: dict[str, tuple[_Ids, _Floats]] = {}

    # -- words ----------------------------------------------------------------------------

    def similar_words(self, word: str) -> tuple[_Ids, _Floats]:
        """Vocabulary words that are spellings of ``word``, with their similarity (0-1]."""
        found = self._cache.get(word)
        if found is None:
            found = self._similar_words(word)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = found
        return found

    def _similar_words(self, word: str) -> tuple[_Ids, _Floats]:
        best: dict[int, float] = {}
        exact = self.vocab.get(word)
        if exact is not None:
            best[exact] = 1.0
        if len(word) > SHORT_WORD:
            for candidate in self._trigram_candidates(word):
                other = self._words[candidate]
                if len(other) <= SHORT_WORD or candidate == exact:
                    continue
                similarity = fuzz.ratio(word, other, score_cutoff=WORD_CUTOFF) / 100.0
                if similarity:
                    best[candidate] = max(best.get(candidate, 0.0), similarity)
            if len(word) >= PREFIX:
                for candidate in self._prefixes.get(word[:PREFIX], ()):
                    other = self._words[candidate]
                    if candidate != exact and _inflected(word, other):
                        best[candidate] = max(best.get(candidate, 0.0), INFLECTED)
        ids = np.fromiter(best, dtype=np.int64, count=len(best))
        sims = np.fromiter(best.values(), dtype=np.float64, count=len(best))
        return ids, sims

    def _trigram_candidates(self, word: str) -> _Ids:
        grams = [self._trigram_ids[g] for g in _trigrams(word) if g in self._trigram_ids]
        if not grams:
            return np.zeros(0, dtype=np.int64)
        words, _ = _gather(self._tri_offsets, self._tri_flat, np.array(grams, dtype=np.int64))
        shared = np.bincount(words, minlength=len(self._words))
        needed = max(1.0, _TRIGRAM_SHARE * (len(word) + 2 - 2))
        return np.flatnonzero(shared >= needed)

    def question_weights(self, words: Sequence[str]) -> _Floats:
        """How much each word of a question counts: a misspelt specific word still counts."""
        weights = []
        for word in words:
            ids, sims = self.similar_words(word)
            if len(ids):
                weights.append(float(self.weight[ids[np.argmax(sims)]]))
            else:
                damp = STOPWORD_WEIGHT if word in STOPWORDS or word.isdigit() else 1.0
                weights.append(self.unknown_weight * damp)
        return np.array(weights, dtype=np.float64)

    # -- phrasings ------------------------------------------------------------------------

    def score(self, normalized: str) -> LexicalScores:
        """Recall and precision of the phrasings that share a word with the question."""
        words = list(dict.fromkeys(tokens(normalized)))
        empty = LexicalScores(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        if not words or not self.size:
            return empty
        matches = [self.similar_words(w) for w in words]
        question_weights = self.question_weights(words)
        all_ids = np.concatenate([ids for ids, _ in matches])
        if not len(all_ids):
            return empty
        vocab_ids = np.unique(all_ids)
        phrasings, owner = _gather(self._post_offsets, self._post_flat, vocab_ids)
        touched, where = _distinct(phrasings, self.size)

        # Recall: each phrasing word counts with its best similarity to any question word.
        best = np.zeros(len(vocab_ids))
        for ids, sims in matches:
            position = np.searchsorted(vocab_ids, ids)
            np.maximum.at(best, position, sims)
        covered = np.bincount(
            where, weights=self.weight[vocab_ids][owner] * best[owner], minlength=len(touched)
        )
        recall = covered / self._phrasing_weight[touched]

        # Precision: each question word counts with its best similarity to a phrasing word.
        explained = np.zeros(len(touched))
        for (ids, sims), weight in zip(matches, question_weights, strict=True):
            if not len(ids):
                continue
            per_vocab = np.zeros(len(vocab_ids))
            per_vocab[np.searchsorted(vocab_ids, ids)] = sims
            values = per_vocab[owner]
            hit = values > 0
            strongest = np.zeros(len(touched))
            np.maximum.at(strongest, where[hit], values[hit])
            explained += weight * strongest
        precision = explained / float(question_weights.sum())
        return LexicalScores(touched, recall, precision)


def _distinct(ids: _Ids, universe: int) -> tuple[_Ids, _Ids]:
    """``np.unique(ids, return_inverse=True)`` for ids below ``universe``, by counting
    instead of sorting: common words have postings in most phrasings, and sorting them
    was most of the cost of a question."""
    present = np.bincount(ids, minlength=universe) > 0
    distinct = np.flatnonzero(present)
    rank = np.cumsum(present) - 1
    return distinct, rank[ids]


def _inflected(first: str, second: str) -> bool:
    shared = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        shared += 1
    return shared >= PREFIX and shared >= 0.8 * min(len(first), len(second))
