"""Question matching: normalisation, scoring, and the answer/suggest/escalate decision.

Callers depend on the ``Matcher`` protocol only, so the scorer can be replaced
without touching them.
"""

from typing import Protocol

from helpdesk.domain.questions import Match
from helpdesk.matching.decision import MatchPolicy, decide, suggestions
from helpdesk.matching.normalize import normalize_text
from helpdesk.matching.stopwords import has_content

__all__ = ["MatchPolicy", "Matcher", "decide", "has_content", "normalize_text", "suggestions"]


class Matcher(Protocol):
    """Scores a question against the knowledge base and decides what to do with it."""

    policy: MatchPolicy

    @property
    def size(self) -> int:
        """How many entries can be matched."""
        ...

    def match(self, question: str) -> Match: ...
