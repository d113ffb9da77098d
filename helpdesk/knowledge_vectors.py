"""``vectors.npz`` beside the knowledge files: the embedding model's vectors of them.

Embedding a knowledge base in nine languages takes minutes of CPU at a hub's first start,
and the same minutes for every hub that imports the same files. A folder may carry the
vectors of its texts, made once by ``helpdesk kb vectors FOLDER``; importing the folder
puts them in the database's cache, keyed as the matcher keys them (the SHA-256 of the
text and how it is embedded), so that only what changed since is embedded again.

The file is numpy's ``.npz`` (``model``, ``hashes``, ``vectors``), read without pickles.
A file for another model, or one that cannot be read, is reported and left aside: it
only costs the time of embedding, never a wrong vector.
"""

import logging
import os
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["VECTORS_FILE", "read_vectors", "write_vectors"]

log = logging.getLogger(__name__)

VECTORS_FILE = "vectors.npz"
_HASH = re.compile(r"[0-9a-f]{64}")


def read_vectors(folder: Path, model: str, dimensions: int) -> dict[str, bytes]:
    """The vectors that ``folder``'s file holds for ``model``, by text hash; none if the
    folder has no such file, or it is for another model or cannot be read."""
    path = folder / VECTORS_FILE
    if not path.is_file() or path.is_symlink():
        return {}
    try:
        # Opened here, not by numpy: numpy leaves the file open when it cannot read it.
        with path.open("rb") as handle:
            stored = np.load(handle, allow_pickle=False)
            if not isinstance(stored, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive")
            with stored:
                made_by = str(stored["model"])
                hashes = [str(h) for h in stored["hashes"]]
                vectors = np.asarray(stored["vectors"], dtype=np.float32)
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:
        log.warning("%s: cannot be read (%s); its texts will be embedded", path, error)
        return {}
    if made_by != model:
        log.warning("%s: vectors of %s, not of %s; not used", path, made_by, model)
        return {}
    if (
        vectors.shape != (len(hashes), dimensions)
        or not all(map(_HASH.fullmatch, hashes))
        or not np.isfinite(vectors).all()
    ):
        log.warning("%s: not a file of vectors as `helpdesk kb vectors` writes them", path)
        return {}
    return {h: row.tobytes() for h, row in zip(hashes, vectors, strict=True)}


def write_vectors(folder: Path, model: str, vectors: dict[str, bytes]) -> Path:
    """Write ``folder/vectors.npz`` (replacing it) from text hash → float32 bytes."""
    if not vectors:
        raise ValueError("no vectors to write")
    path = folder / VECTORS_FILE
    ordered = sorted(vectors)
    # A new file of its own (never a link someone left in the folder), then renamed over
    # the old one: a reader sees the old file or the new one, never half of one.
    handle, temporary = tempfile.mkstemp(prefix=".vectors-", suffix=".tmp", dir=folder)
    try:
        os.fchmod(handle, 0o644)  # readable like the entry files beside it
        with os.fdopen(handle, "wb") as out:
            np.savez_compressed(
                out,
                model=np.array(model),
                hashes=np.array(ordered),
                vectors=np.stack([np.frombuffer(vectors[h], dtype=np.float32) for h in ordered]),
            )
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
