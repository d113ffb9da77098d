"""Vectors shipped beside knowledge files: read strictly, written whole, and used by the
knowledge index instead of embedding the same texts again."""

import logging
from pathlib import Path

import numpy as np
import pytest

from helpdesk.knowledge_vectors import VECTORS_FILE, read_vectors, write_vectors
from helpdesk.matching.hybrid import HybridMatcher
from helpdesk.services.knowledge import import_entries, text_hashes
from tests.fakes import FakeClock, FakeEmbedder, FakeStore, FakeUnitOfWork
from tests.unit.test_hybrid import ENTRIES, index_over

MODEL = FakeEmbedder.model
DIMENSIONS = FakeEmbedder.dimensions


def some_vectors(count: int = 3) -> dict[str, bytes]:
    rng = np.random.default_rng(1)
    return {
        f"{i:064x}": rng.standard_normal(DIMENSIONS).astype(np.float32).tobytes()
        for i in range(count)
    }


def test_what_is_written_reads_back_for_its_model_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    vectors = some_vectors()
    assert write_vectors(tmp_path, MODEL, vectors) == tmp_path / VECTORS_FILE
    assert read_vectors(tmp_path, MODEL, DIMENSIONS) == vectors
    assert [p.name for p in tmp_path.iterdir()] == [VECTORS_FILE]  # no temporary left
    with caplog.at_level(logging.WARNING):
        assert read_vectors(tmp_path, "another-model", DIMENSIONS) == {}
    assert "not of another-model" in caplog.text
    assert read_vectors(tmp_path, MODEL, DIMENSIONS + 1) == {}  # another size: not used


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip at all", b"PK\x03\x04broken", np.zeros(3).tobytes()],
    ids=["empty", "text", "broken zip", "raw floats"],
)
def test_a_file_that_cannot_be_read_is_reported_and_left_aside(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / VECTORS_FILE).write_bytes(content)
    with caplog.at_level(logging.WARNING):
        assert read_vectors(tmp_path, MODEL, DIMENSIONS) == {}
    assert VECTORS_FILE in caplog.text


def test_a_file_with_pickles_or_odd_keys_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / VECTORS_FILE
    # Objects would need a pickle to load: refused, never executed.
    np.savez(
        path,
        model=np.array(MODEL),
        hashes=np.array([{"a": 1}], dtype=object),
        vectors=np.zeros((1, DIMENSIONS), np.float32),
    )
    assert read_vectors(tmp_path, MODEL, DIMENSIONS) == {}
    np.savez(
        path,
        model=np.array(MODEL),
        hashes=np.array(["../../etc/passwd"]),
        vectors=np.zeros((1, DIMENSIONS), np.float32),
    )
    assert read_vectors(tmp_path, MODEL, DIMENSIONS) == {}
    np.savez(
        path,
        model=np.array(MODEL),
        hashes=np.array([f"{0:064x}"]),
        vectors=np.zeros((2, DIMENSIONS), np.float32),
    )
    assert read_vectors(tmp_path, MODEL, DIMENSIONS) == {}


def test_vectors_that_are_not_numbers_are_not_used(tmp_path: Path) -> None:
    vectors = some_vectors()
    poisoned = np.frombuffer(next(iter(vectors.values())), dtype=np.float32).copy()
    poisoned[0] = np.nan
    vectors[next(iter(vectors))] = poisoned.tobytes()
    write_vectors(tmp_path, MODEL, vectors)
    assert read_vectors(tmp_path, MODEL, DIMENSIONS) == {}


def test_a_link_in_place_of_the_file_is_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_vectors(elsewhere, MODEL, some_vectors())
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / VECTORS_FILE).symlink_to(elsewhere / VECTORS_FILE)
    assert read_vectors(folder, MODEL, DIMENSIONS) == {}


async def test_seeded_vectors_spare_the_index_from_embedding(tmp_path: Path) -> None:
    # One process embeds the base and its vectors are written beside the files...
    store, clock = FakeStore(), FakeClock()
    await import_entries(lambda: FakeUnitOfWork(store), ENTRIES, clock)
    index = index_over(store, FakeEmbedder())
    await index.refresh()
    write_vectors(tmp_path, MODEL, await index.cached_vectors(ENTRIES))
    # ...and another hub importing the same files embeds none of them.
    embedder, elsewhere = FakeEmbedder(), FakeStore()
    await import_entries(lambda: FakeUnitOfWork(elsewhere), ENTRIES, clock)
    other = index_over(elsewhere, embedder)
    needed = HybridMatcher.vectors_needed(ENTRIES)
    assert await other.seed(read_vectors(tmp_path, MODEL, DIMENSIONS)) == len(needed)
    assert await other.seed(read_vectors(tmp_path, MODEL, DIMENSIONS)) == 0  # known now
    await other.refresh()
    assert embedder.embedded == []
    assert set(text_hashes(needed).values()) <= set(await other.cached_vectors(ENTRIES))
