"""Learn from the knowledge base which differences between texts do not matter.

An entry's phrasings all ask the same thing, in several languages and wordings. The
directions in which they differ from each other (the language a text is in, its greeting,
its register) are what a question may differ in too without asking something else.
Within-class covariance normalisation (WCCN, from speaker verification) shrinks those
directions before texts are compared, so that closeness in meaning counts for more than
closeness in language or style.

It is learned from the knowledge base alone, when the matcher is built: the covariance
of every phrasing's vector around its entry's mean, regularised by its mean variance so
that a direction is shrunk only as far as the phrasings show it varying (a small base
shows few directions; the others are left as they are).

Entries that have many near-duplicates in the base (the same service page for six
municipalities, the same question about forty services) teach little: with n the
entries, itself included, whose phrasings' mean lies within ``NEAR_DUPLICATE`` of its
own, each counts (``KEPT``/n)² once n passes ``KEPT``. Without that, a base dominated by
templated entries teaches what their phrasings differ in (mostly language, in set wordings), and a
question in other words than an entry's phrasings loses what whitening gave it: among
10,000 such distractors the semantic score ranked the right entry first for 0.70 of the
project's questions (0.90 alone; 0.85 with the weights) and for 0.27 of the unseen set's
(0.75 alone; 0.47 with the weights), benchmarks/SCALE.md.
On tests/data/questions.jsonl (questions never used to learn it) the embedding's top-1
rose from 0.83 to 0.90, and from 0.72 to 0.83 with only four phrasings an entry; on the
external benchmark's monolingual bases from 0.85 to 0.88 (benchmarks/EXPERIMENTS.md).
"""

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "KEPT",
    "NEAR_DUPLICATE",
    "Transform",
    "apply",
    "distinctness",
    "within_entry_whitening",
]

Transform = NDArray[np.float32]

_SLICE = 8192
# Cosine between two entries' mean phrasing vectors (the model's own space) at or above
# which they ask nearly the same thing, and how many such entries (itself included) an
# entry may have and still count fully: the unseen base is whitened as before, the
# project's almost (one of its entries has four at 0.96); see benchmarks/SCALE.md.
NEAR_DUPLICATE = 0.96
KEPT = 3
# Near-duplicates are counted against at most this many entries (a sample, scaled up), so
# that the count costs the same at 10,000 entries as at 100,000.
_COUNTED_AGAINST = 2048


def within_entry_whitening(
    vectors: NDArray[np.float32],
    owners: NDArray[np.int64],
    strength: float,
    near_duplicate: float | None = NEAR_DUPLICATE,
    kept: int = KEPT,
) -> Transform | None:
    """A (dimensions x dimensions) matrix that shrinks the directions in which phrasings of
    one entry differ, or None when there is nothing to learn from (no entry with two
    phrasings) or ``strength`` is 0.

    ``strength`` is the regularisation, as a multiple of the mean variance: larger keeps
    more of the original space (infinite would change nothing). ``near_duplicate`` and
    ``kept``: see ``distinctness``; None weighs every entry alike."""
    if strength <= 0 or len(vectors) == 0:
        return None
    counts = np.bincount(owners)
    shared = counts[owners] >= 2  # a lone phrasing says nothing about variation
    if not shared.any():
        return None
    rows = np.flatnonzero(shared)
    means = np.zeros((len(counts), vectors.shape[1]))
    np.add.at(means, owners, vectors)
    means /= np.maximum(counts, 1)[:, None]
    weights = (
        np.ones(len(owners))
        if near_duplicate is None
        else distinctness(means, counts > 0, near_duplicate, kept)[owners]
    )
    covariance = np.zeros((vectors.shape[1], vectors.shape[1]))
    # In slices: at 100k entries a whole copy of the deviations would be gigabytes.
    for start in range(0, len(rows), _SLICE):
        chosen = rows[start : start + _SLICE]
        deviations = (vectors[chosen] - means[owners[chosen]]).astype(np.float32)
        covariance += (deviations * weights[chosen, None].astype(np.float32)).T @ deviations
    covariance /= float(weights[rows].sum())
    values, directions = np.linalg.eigh(covariance)
    values = np.clip(values, 0.0, None)
    floor = strength * float(values.mean())
    if floor <= 0:
        return None
    transform: Transform = ((directions * (values + floor) ** -0.5) @ directions.T).astype(
        np.float32
    )
    return transform


def distinctness(
    means: NDArray[np.float64],
    present: NDArray[np.bool_],
    near_duplicate: float = NEAR_DUPLICATE,
    kept: int = KEPT,
) -> NDArray[np.float64]:
    """How much each entry teaches: with n the entries (itself included) whose mean vector
    is within ``near_duplicate`` (cosine) of its own, 1 while n <= ``kept``, then (kept/n)²;
    0 for entries without vectors."""
    weights = np.zeros(len(means))
    chosen = np.flatnonzero(present)
    if not len(chosen):
        return weights
    norms = np.linalg.norm(means[chosen], axis=1, keepdims=True)
    unit = (means[chosen] / np.maximum(norms, 1e-12)).astype(np.float32)
    # Always the same sample, so that the same base gives the same transform.
    sample = np.sort(np.random.default_rng(0).permutation(len(unit))[:_COUNTED_AGAINST])
    near = np.zeros(len(unit))
    for start in range(0, len(unit), _SLICE):
        block = unit[start : start + _SLICE] @ unit[sample].T
        near[start : start + _SLICE] = (block >= near_duplicate).sum(axis=1)
    in_sample = np.zeros(len(unit), dtype=bool)
    in_sample[sample] = True
    others = near - in_sample  # an entry is always near itself
    scale = (len(unit) - 1) / max(len(sample) - 1, 1) if len(sample) < len(unit) else 1.0
    weights[chosen] = np.minimum(1.0, kept / (1.0 + others * scale)) ** 2
    return weights


def apply(transform: Transform | None, vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """Vectors (one or a matrix of rows) through the transform, back to unit length; zero
    rows stay zero."""
    if transform is None:
        return vectors
    moved = (vectors @ transform).astype(np.float32)
    norms = np.linalg.norm(moved, axis=-1, keepdims=True)
    result: NDArray[np.float32] = np.divide(moved, norms, out=np.zeros_like(moved), where=norms > 0)
    return result
