"""Cleaning what people send before anything else looks at it."""

import re
import unicodedata
from dataclasses import dataclass

from helpdesk.domain.limits import MAX_PHRASING_LENGTH
from helpdesk.i18n import Msg, Reply

__all__ = ["InputLimits", "check_question", "clean_text", "too_long"]

# Dropped characters: controls (but newline and tab), and format characters, the invisible
# ones that change how text is shown or compared (zero-width, bidirectional overrides and
# isolates, byte-order mark, soft hyphen), plus surrogates, private use and unassigned.
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class InputLimits:
    """How long what people send may be, by what it is: every argument has its limit."""

    max_length: int = 4000  # characters; a question or an answer, not a document
    min_letters: int = 2
    max_comment: int = 1000  # a comment with a rating
    max_contact: int = 1000  # a city's contact details, sent to an official
    max_phrasing: int = MAX_PHRASING_LENGTH  # one more way of asking for an entry


def clean_text(raw: str) -> str:
    """NFC, no control or invisible characters, tidy whitespace. Keeps every script."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.isprintable():  # else it holds none of them: the common case, at C speed
        text = "".join(
            ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _DROPPED
        )
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def check_question(raw: str | None, text: str, limits: InputLimits) -> Reply | None:
    """Why this text cannot be treated as a question, as a reply to send; None if it can.

    ``raw`` is what arrived (None for something that was not text at all), ``text`` its
    cleaned form.
    """
    if raw is None or "\x00" in raw or raw.count("\ufffd") > max(3, len(raw) // 10):
        return Reply.say(Msg.INPUT_NOT_TEXT)
    if not text:
        return Reply.say(Msg.INPUT_EMPTY)
    if len(text) > limits.max_length:
        return Reply.say(Msg.INPUT_TOO_LONG, length=len(text), limit=limits.max_length)
    letters = sum(1 for ch in text if ch.isalpha())
    if letters == 0:
        return Reply.say(Msg.INPUT_NO_WORDS)
    if letters < limits.min_letters:
        return Reply.say(Msg.INPUT_TOO_SHORT)
    return None


def too_long(text: str, limit: int) -> Reply:
    """The reply to an argument longer than its limit."""
    return Reply.say(Msg.INPUT_ARGUMENT_TOO_LONG, length=len(text), limit=limit)
