"""The audit trail: what staff (and the system acting for them) changed, who, and when.

It answers "who published this?", "who erased that person?" long after the fact, so an
event is written in the same transaction as the change it records and is never edited.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["AuditAction", "AuditEvent"]


class AuditAction(StrEnum):
    INVITE = "invite"
    ROLE = "role"
    PROMOTE = "promote"
    PUBLISH = "publish"
    RETIRE = "retire"
    PHRASE = "phrase"
    RESTORE = "restore"
    ACCEPT = "accept"
    REJECT = "reject"
    ASSIGN = "assign"
    INTRODUCE = "introduce"
    ERASE = "erase"
    EXPORT = "export"
    RESEND = "resend"  # a message that could not be delivered, queued again
    ANSWER = "answer"  # staff answered a ticket themselves
    CANCEL = "cancel"  # staff withdrew a ticket
    EDIT = "edit"  # an entry's text changed (the web console's editor)
    REVOKE = "revoke"  # an invitation withdrawn before it was used
    PERSON = "person"  # an expert's languages, topics, capacity or availability changed


@dataclass(frozen=True)
class AuditEvent:
    at: datetime
    actor: str  # "Name (#id)" for a person in chat, "user (cli)" for the command line
    action: AuditAction
    subject: str  # what was acted on: "entry:ID", "ticket:N", "person:N", "invite:N"
    detail: str = ""
    id: int | None = None
