"""People: officials who ask, experts who answer, staff who run the hub."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = ["DEFAULT_TIMEZONE", "ChatIdentity", "Person", "Role"]

DEFAULT_TIMEZONE = "Europe/Belgrade"


class Role(StrEnum):
    OFFICIAL = "official"
    EXPERT = "expert"
    STAFF = "staff"


@dataclass(frozen=True)
class ChatIdentity:
    """Where a person can be reached: a platform and the person's address on it."""

    platform: str  # "telegram", "matrix", "console"
    address: str  # chat id, Matrix user id, console name


@dataclass
class Person:
    name: str
    role: Role
    id: int | None = None
    city: str | None = None
    country: str | None = None
    languages: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    capacity: int = 3  # open tickets an expert takes at once
    away_until: datetime | None = None
    ui_language: str | None = None  # chosen with /language; wins over everything else
    # The language they last wrote a message in (identified): replies follow it.
    last_language: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    identities: list[ChatIdentity] = field(default_factory=list)
    created_at: datetime | None = None
    erased_at: datetime | None = None  # asked to be forgotten: an anonymous row for statistics

    @property
    def is_expert(self) -> bool:
        return self.role is Role.EXPERT

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    def is_available(self, now: datetime) -> bool:
        """False while the person has said they are away."""
        return self.away_until is None or self.away_until <= now

    def same_city(self, other: "Person") -> bool:
        """True only when both cities are known and equal (case and spacing ignored)."""
        if not self.city or not other.city:
            return False
        return self.city.strip().casefold() == other.city.strip().casefold()
