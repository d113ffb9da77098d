"""What chat handlers use besides the message's turn: the knowledge base, the limits on
what people send, and where published entries are written."""

from dataclasses import dataclass

from helpdesk.services.input import InputLimits
from helpdesk.services.knowledge import KnowledgeIndex
from helpdesk.services.ports import EntryWriter

__all__ = ["Resources"]


@dataclass(frozen=True)
class Resources:
    knowledge: KnowledgeIndex
    limits: InputLimits
    write_entry: EntryWriter | None  # published entries go back to knowledge/ too
    web_url: str | None = None  # the web console's public address; None: not served
