"""Invitations: the only way in. A code works once, expires, and is stored only as a hash."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from helpdesk.domain.errors import DomainError
from helpdesk.domain.people import Person, Role

__all__ = ["Invite", "hash_code", "new_code"]

# No 0/O, 1/I/L: codes are read aloud and typed from paper.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code() -> str:
    """A fresh code like ``K7QX-M2PA-9TRD`` (about 59 bits)."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def hash_code(code: str) -> str:
    """What is stored: codes are compared by hash, ignoring case, spaces and dashes."""
    canonical = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Invite:
    code_hash: str
    role: Role
    created_at: datetime
    expires_at: datetime
    name: str | None = None
    city: str | None = None
    country: str | None = None
    languages: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    capacity: int = 3
    used_at: datetime | None = None
    used_by: int | None = None
    id: int | None = None

    def is_valid(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at

    def person(self, fallback_name: str, now: datetime) -> Person:
        """The person this invitation makes, named by the invite or by their chat profile."""
        return Person(
            name=self.name or fallback_name,
            role=self.role,
            city=self.city,
            country=self.country,
            languages=self.languages,
            topics=self.topics,
            capacity=self.capacity,
            created_at=now,
        )

    def redeem(self, person_id: int, now: datetime) -> None:
        if not self.is_valid(now):
            raise DomainError("invitation is used or expired")
        self.used_at = now
        self.used_by = person_id
