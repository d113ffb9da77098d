"""What the knowledge base's own phrasings teach the matcher to ignore, on hand-made vectors.

Four dimensions: entry A is about e0, entry B about e2, and e1 is the "language" a text is
written in (+ one language, - the other). B has a phrasing in each language, so the base
shows that e1 varies within an entry; A has one phrasing, in the + language.
"""

import numpy as np

from helpdesk.matching.whitening import KEPT, apply, distinctness, within_entry_whitening


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


# A base where one entry (about e0) varies in e1, and ten near-duplicate entries (about
# e2, a little apart in e4) all vary in e3: a service page copied for ten municipalities.
def crowded_base() -> tuple[np.ndarray, np.ndarray]:
    rows = [unit(1, 1, 0, 0, 0, 0), unit(1, -1, 0, 0, 0, 0)]
    owners = [0, 0]
    for copy in range(10):
        rows += [unit(0, 0, 1, 0.5, 0.02 * copy, 0), unit(0, 0, 1, -0.5, 0.02 * copy, 0)]
        owners += [copy + 1, copy + 1]
    return np.array(rows), np.array(owners)


def shrunk(transform: np.ndarray, direction: int) -> float:
    """How far the transform shrinks a direction (larger: shrunk more)."""
    return 1.0 / float(np.linalg.norm(transform[direction]))


def test_near_duplicate_entries_teach_no_more_than_one_distinct_entry() -> None:
    vectors, owners = crowded_base()
    alike = within_entry_whitening(vectors, owners, strength=1.0, near_duplicate=None)
    weighed = within_entry_whitening(vectors, owners, strength=1.0)
    assert alike is not None and weighed is not None
    # Counted alike, the ten copies make their own variation (e3) what is shrunk most.
    assert shrunk(alike, 3) > shrunk(alike, 1)
    # Weighed, they count (3/10)² each, 0.9 together: the distinct entry's variation (e1)
    # is shrunk at least as much.
    assert shrunk(weighed, 1) >= shrunk(weighed, 3)


def test_an_entry_counts_fully_up_to_kept_near_duplicates() -> None:
    vectors, owners = crowded_base()
    means = np.zeros((11, 6))
    np.add.at(means, owners, vectors)
    weights = distinctness(means, np.ones(11, dtype=bool))
    assert weights[0] == 1.0
    assert np.allclose(weights[1:], (KEPT / 10) ** 2)
    # Three copies are still three entries: nothing is discounted.
    few = distinctness(means[:4], np.ones(4, dtype=bool))
    assert np.allclose(few, 1.0)


def test_a_base_without_near_duplicates_is_whitened_as_before() -> None:
    weighed = within_entry_whitening(PHRASINGS, OWNERS, strength=1.0)
    alike = within_entry_whitening(PHRASINGS, OWNERS, strength=1.0, near_duplicate=None)
    assert weighed is not None and alike is not None
    assert np.allclose(weighed, alike)


def test_entries_without_vectors_teach_nothing() -> None:
    means = np.array([[1.0, 0, 0], [0, 0, 0], [0, 1.0, 0]])
    weights = distinctness(means, np.array([True, False, True]))
    assert weights.tolist() == [1.0, 0.0, 1.0]


def test_near_duplicates_are_counted_on_a_sample_in_a_large_base() -> None:
    # 3,000 entries in two tight groups of 1,500: counted against a sample of 2,048 and
    # scaled up, each entry has about 1,500 near-duplicates.
    rng = np.random.default_rng(1)
    centres = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0]])
    means = np.repeat(centres, 1500, axis=0) + rng.normal(0, 0.01, (3000, 4))
    weights = distinctness(means, np.ones(3000, dtype=bool))
    assert np.allclose(weights, (KEPT / 1500) ** 2, rtol=0.15)
