"""What the knowledge base's own phrasings teach the matcher to ignore, on hand-made vectors.

Four dimensions: entry A is about e0, entry B about e2, and e1 is the "language" a text is
written in (+ one language, - the other). B has a phrasing in each language, so the base
shows that e1 varies within an entry; A has one phrasing, in the + language.
"""

import numpy as np

from helpdesk.matching.whitening import apply, within_entry_whitening


def unit(*components: float) -> np.ndarray:
    vector = np.array(components, dtype=np.float32)
    return vector / np.linalg.norm(vector)


PHRASINGS = np.array([unit(1, 1, 0, 0), unit(0, 1, 1, 0), unit(0, -1, 1, 0)])
OWNERS = np.array([0, 1, 1])
# About A, written in the - language.
QUESTION = unit(1, -1, 0, 0)


def closest(transform: np.ndarray | None) -> int:
    phrasings = apply(transform, PHRASINGS)
    question = apply(transform, QUESTION)
    return int(OWNERS[np.argmax(phrasings @ question)])


def test_the_raw_vectors_match_the_language_not_the_meaning() -> None:
    assert closest(None) == 1


def test_whitened_vectors_match_the_meaning() -> None:
    transform = within_entry_whitening(PHRASINGS, OWNERS, strength=1.0)
    assert transform is not None
    assert closest(transform) == 0


def test_weaker_whitening_keeps_more_of_the_raw_space() -> None:
    strong = within_entry_whitening(PHRASINGS, OWNERS, strength=0.5)
    weak = within_entry_whitening(PHRASINGS, OWNERS, strength=50.0)
    assert strong is not None and weak is not None
    raw = float(PHRASINGS[0] @ QUESTION)

    def similarity(transform: np.ndarray) -> float:
        return float(apply(transform, PHRASINGS[:1])[0] @ apply(transform, QUESTION))

    assert abs(similarity(weak) - raw) < abs(similarity(strong) - raw)


def test_nothing_to_learn_from_means_no_transform() -> None:
    lone = np.array([unit(1, 0, 0, 0), unit(0, 0, 1, 0)])
    assert within_entry_whitening(lone, np.array([0, 1]), strength=1.0) is None
    assert within_entry_whitening(PHRASINGS, OWNERS, strength=0.0) is None
    empty = np.zeros((0, 4), dtype=np.float32)
    assert within_entry_whitening(empty, np.zeros(0, dtype=np.int64), strength=1.0) is None


def test_applied_vectors_are_unit_and_zero_rows_stay_zero() -> None:
    transform = within_entry_whitening(PHRASINGS, OWNERS, strength=1.0)
    moved = apply(transform, np.vstack([PHRASINGS, np.zeros((1, 4), dtype=np.float32)]))
    assert np.allclose(np.linalg.norm(moved[:3], axis=1), 1.0, atol=1e-5)
    assert not moved[3].any()
    assert apply(None, PHRASINGS) is PHRASINGS
