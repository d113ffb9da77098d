"""Writes knowledge_vectors.npz: the embedding model's vectors of the project's knowledge
base (its phrasings and the passages of each answer in every language), exactly as the bot
caches them in its database after embedding them.

The answer-quality test puts them in its database before `helpdesk kb import`, which then
finds them cached instead of spending minutes of CPU on them; everything else in that test
(the questions, the matching) runs through the model as usual. A text not in the file (the
knowledge base changed since) is embedded as it would be without it, so a stale file only
costs time: run this again after changing `knowledge/`, from the project root:
python tests/data/make_knowledge_vectors.py
"""

import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_name("knowledge_vectors.npz")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "helpdesk.db"
        env = {
            **os.environ,
            "HELPDESK_DATABASE_URL": f"sqlite:///{database}",
            "HELPDESK_SEMANTIC_MATCHING": "true",
        }
        env.pop("HELPDESK_CONFIG", None)
        subprocess.run(
            [sys.executable, "-m", "helpdesk", "kb", "import", str(ROOT / "knowledge")],
            env=env,
            check=True,
        )
        with sqlite3.connect(database) as connection:
            rows = connection.execute(
                "SELECT model, text_hash, vector FROM embeddings ORDER BY text_hash"
            ).fetchall()
    [model] = {model for model, _, _ in rows}
    np.savez_compressed(
        OUT,
        model=np.array(model),
        hashes=np.array([text_hash for _, text_hash, _ in rows]),
        vectors=np.stack([np.frombuffer(vector, dtype=np.float32) for _, _, vector in rows]),
    )
    print(f"{OUT.relative_to(ROOT)}: {len(rows)} vectors of {model}")


if __name__ == "__main__":
    main()
