"""The corpus of hostile and odd messages in tests/data/bad_input.jsonl (see the script
beside it), expanded: every adapter's tests replay it."""

import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BadInput", "load_bad_input"]

CORPUS = Path(__file__).parent / "data" / "bad_input.jsonl"


@dataclass(frozen=True)
class BadInput:
    kind: str
    text: str


def load_bad_input(max_size: int | None = None) -> list[BadInput]:
    """The whole corpus; ``max_size`` cuts the huge ones to what a platform can carry."""
    items = []
    for line in CORPUS.read_text(encoding="ascii").splitlines():
        data = json.loads(line)
        if "fill" in data:
            fill, size = data["fill"], data["size"]
            text = (fill * (size // len(fill) + 1))[:size]
        else:
            text = data["text"]
        if max_size is not None:
            text = text[:max_size]
        items.append(BadInput(data["kind"], text))
    return items
