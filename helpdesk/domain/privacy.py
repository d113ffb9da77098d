"""Taking a person out of text: what erasure replaces, and how, without mangling the rest.

A person's data travels into texts other people keep: their name in the audit trail and
in the history of entries they edited, their question quoted to an expert, an expert's
name under an answer that became an entry. Erasure rewrites those texts with a
``Redaction``: whole words only (erasing "Ana" leaves "Banana" alone), case as written,
and a quoted question replaced as a whole, previews cut with an ellipsis included.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["ERASED", "Redaction", "without_words"]

ERASED = "(erased)"  # what a removed name becomes
_ELLIPSIS = "…"
_MIN_QUOTE = 12  # shorter texts are too common to recognise as someone's question


def _words(text: str) -> str:
    return " ".join(text.split())


def without_words(text: str, phrase: str, replacement: str = ERASED) -> str:
    """``text`` with every whole-word occurrence of ``phrase`` replaced."""
    if not phrase.strip():
        return text
    pattern = rf"(?<!\w){re.escape(phrase)}(?!\w)"
    return re.sub(pattern, lambda _: replacement, text)


@dataclass(frozen=True)
class Redaction:
    """What to take out of texts about one person.

    ``replacements`` are (phrase, replacement) pairs applied in order, whole words only:
    longer phrases first (a credit line before the bare name). ``quotes`` are texts the
    person wrote: a string that is one of them, contains one, or is a preview of one
    ("the first words…") is replaced by an ellipsis. ``anchors`` are phrases only texts
    about this person hold (a credit line): shared texts such as the knowledge base are
    rewritten only where one appears, so that a common word that happens to be someone's
    name is left alone elsewhere."""

    replacements: tuple[tuple[str, str], ...]
    quotes: tuple[str, ...] = ()
    anchors: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        replacements: Iterable[tuple[str, str]],
        quotes: Iterable[str] = (),
        anchors: Iterable[str] = (),
    ) -> "Redaction":
        pairs = {old: new for old, new in replacements if old.strip() and old != new}
        ordered = sorted(pairs.items(), key=lambda pair: len(pair[0]), reverse=True)
        written = {_words(q) for q in quotes if len(_words(q)) >= _MIN_QUOTE}
        return cls(
            tuple(ordered),
            tuple(sorted(written, key=len, reverse=True)),
            tuple(a for a in dict.fromkeys(anchors) if a.strip()),
        )

    def anchored(self, text: str) -> bool:
        """Whether ``text`` is about this person (holds one of the anchors)."""
        return any(anchor in text for anchor in self.anchors)

    @property
    def needles(self) -> tuple[str, ...]:
        """Substrings whose presence marks a text as needing this redaction."""
        return tuple(old for old, _ in self.replacements) + self.quotes

    def text(self, value: str) -> str:
        """``value`` with the person taken out."""
        flat = _words(value)
        for quote in self.quotes:
            preview = flat.endswith(_ELLIPSIS) and len(flat) > _MIN_QUOTE
            if quote in flat or (preview and quote.startswith(flat[: -len(_ELLIPSIS)].rstrip())):
                return _ELLIPSIS
        for old, new in self.replacements:
            value = without_words(value, old, new)
        return value

    def json(self, value: Any) -> Any:
        """The same, through every string of a JSON-like value (keys stay)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.json(v) for k, v in value.items()}
        return value
