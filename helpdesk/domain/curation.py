"""Curating the knowledge base from use: versions of entries, phrasings proposed from
real questions, drafts made from expert answers. Nothing changes the base without a
member of staff."""

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from helpdesk.domain.knowledge import Entry

__all__ = [
    "ERASED_CREDIT",
    "ConnectionRequest",
    "ConnectionStatus",
    "EntryVersion",
    "Proposal",
    "ProposalStatus",
    "credit",
    "credit_line",
    "describe_change",
    "scrub",
    "slug",
    "with_phrasing",
]


@dataclass(frozen=True)
class EntryVersion:
    """An entry as it was after one change: who made it, when, and what changed."""

    entry_id: str
    version: int
    at: datetime
    author: str
    change: str
    entry: Entry


class ProposalStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass
class Proposal:
    """A real question proposed as a new phrasing of an entry."""

    entry_id: str
    text: str
    created_at: datetime
    language: str | None = None
    question_id: int | None = None
    status: ProposalStatus = ProposalStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    id: int | None = None


class ConnectionStatus(StrEnum):
    REQUESTED = "requested"  # the official asked; staff ask the other city
    INTRODUCED = "introduced"  # the other city agreed: contacts shared both ways


@dataclass
class ConnectionRequest:
    """An official asks to talk with the city whose practice answered them. Contact
    details travel only when both sides agree: the official by asking, the city through
    staff."""

    official_id: int
    entry_id: str
    to_city: str
    created_at: datetime
    question_id: int | None = None
    status: ConnectionStatus = ConnectionStatus.REQUESTED
    id: int | None = None


_FIELDS = ("title", "body", "topics", "lang", "city", "country", "source")


def describe_change(before: Entry | None, after: Entry) -> str:
    """``created``, or what differs: ``status draft → published; body; questions +1``."""
    if before is None:
        return f"created ({after.status})"
    changes = []
    if before.status != after.status:
        changes.append(f"status {before.status} → {after.status}")
    changes += [f for f in _FIELDS if getattr(before, f) != getattr(after, f)]
    translated_before = {tr.lang: tr for tr in before.translations}
    translated_after = {tr.lang: tr for tr in after.translations}
    languages = sorted(translated_before.keys() | translated_after.keys())
    touched = [
        ("+" if code not in translated_before else "-" if code not in translated_after else "")
        + code
        for code in languages
        if translated_before.get(code) != translated_after.get(code)
    ]
    if touched:
        changes.append("translations " + " ".join(touched))
    added = len(set(after.questions) - set(before.questions))
    removed = len(set(before.questions) - set(after.questions))
    if added or removed:
        changes.append(
            "questions "
            + " ".join(
                p for p in (f"+{added}" if added else "", f"-{removed}" if removed else "") if p
            )
        )
    return "; ".join(changes) or "no change"


# The line under an answer promoted from a ticket, once its expert has asked to be forgotten.
ERASED_CREDIT = "*Answered by an expert of the hub's pool.*"


def credit(name: str, city: str | None, country: str | None) -> str:
    """How an entry made from an expert's answer names them: ``Vesna, Sarajevo, BiH``."""
    return ", ".join(p for p in (name, city, country) if p)


def credit_line(credited: str) -> str:
    """The line under the answer of an entry made from a ticket, crediting the expert."""
    return f"*Answered by {credited}, expert of the hub's pool.*"


def slug(text: str, length: int = 48) -> str:
    """An entry id from a title: lower-case letters and digits joined by dashes."""
    words = re.findall(r"[a-z0-9]+", text.casefold().encode("ascii", "ignore").decode())
    return "-".join(words)[:length].strip("-") or "entry"


def scrub(text: str, *names: str | None) -> str:
    """``text`` without the given names (a person's name, their city), so that what an
    official wrote does not name them in a shared entry.

    The whole name goes in any case; a part of it only where it is written as a name,
    with its capital (Ana, Petrović), so that ordinary words are kept: for an official
    named "Local official", "the local community council" stays as it is."""
    for name in names:
        whole = " ".join((name or "").split())
        if not whole:
            continue
        text = re.sub(rf"(?<!\w){re.escape(whole)}(?!\w)", "…", text, flags=re.IGNORECASE)
        for part in whole.split():
            if len(part) >= 3 and part[0].isupper():
                text = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", "…", text)
    return text


def with_phrasing(entry: Entry, text: str) -> Entry:
    return dataclasses.replace(entry, questions=(*entry.questions, text))
