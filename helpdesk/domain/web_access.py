"""Signing in to the web console without a password: a one-time link sent in chat (or
printed by the command line) opens a session kept on the server.

Only hashes of the link's token and of the session's token are stored: someone who reads
the database cannot sign in with what they find there."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.domain.people import Role

__all__ = [
    "LINK_VALID_FOR",
    "SESSION_IDLE",
    "SESSION_LIFETIME",
    "SignInLink",
    "WebSession",
    "hash_token",
    "new_token",
]

LINK_VALID_FOR = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=2)  # no request for this long: signed out
SESSION_LIFETIME = timedelta(hours=12)  # a working day, however busy


def new_token() -> str:
    """A fresh random token (256 bits), safe in a URL and a cookie."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What is stored of a token, and what it is looked up by."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class SignInLink:
    token_hash: str
    person_id: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    id: int | None = None

    def is_valid(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


@dataclass
class WebSession:
    """A signed-in browser. ``role`` is the person's role when it opened: a session
    outlives no change of role."""

    token_hash: str
    person_id: int
    role: Role
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None
    id: int | None = None

    def is_live(self, now: datetime) -> bool:
        """Not signed out, not idle too long, not older than a working day."""
        return (
            self.ended_at is None
            and now - self.last_seen_at < SESSION_IDLE
            and now - self.created_at < SESSION_LIFETIME
        )
