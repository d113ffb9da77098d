"""What the helpdesk does later on its own: remind an expert, reassign a ticket nobody
answered, ask an official whether the answer helped, send staff their digest.

Each is a row (what, for whom, when, done) so that a restart loses none and repeats
none; and nothing is sent to anyone during their quiet hours, in their own time zone.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk.domain.people import DEFAULT_TIMEZONE

__all__ = [
    "ActionKind",
    "QuietHours",
    "ScheduledAction",
    "Timings",
    "describe_duration",
    "format_duration",
    "parse_duration",
    "zone",
]

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: object) -> timedelta:
    """``90s``, ``30m``, ``24h``, ``14d``, ``2w``, or combinations such as ``1h30m``."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    text = str(value).strip().lower().replace(" ", "")
    if not text or _DURATION.sub("", text):
        raise ValueError(f"not a duration: {value!r} (write e.g. 90s, 30m, 24h, 14d)")
    total = timedelta()
    for amount, unit in _DURATION.findall(text):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def describe_duration(span: timedelta) -> str:
    """For people: the two largest units, ``2d 4h``, ``12h 33m``, ``45m``, ``20s``."""
    seconds = int(span.total_seconds())
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2])


def format_duration(span: timedelta) -> str:
    """The way durations are written in settings: ``14d``, ``48h``, ``30m``, ``90s``."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class ActionKind(StrEnum):
    REMIND_EXPERT = "remind_expert"  # the assignee has not answered yet
    REASSIGN = "reassign"  # ...and still has not: give the ticket to the next expert
    FOLLOW_UP = "follow_up"  # some time after an answer: did it help the official?
    DIGEST = "digest"  # the weekly summary for a member of staff

    @property
    def respects_quiet_hours(self) -> bool:
        """Reassignment is not a message to the person it is for: it runs at night too
        (the new expert's notification waits in their chat app like any other)."""
        return self is not ActionKind.REASSIGN


@dataclass
class ScheduledAction:
    kind: ActionKind
    due_at: datetime
    person_id: int  # whom it is for (the expert, the official, the member of staff)
    ticket_id: int | None = None
    created_at: datetime | None = None
    done_at: datetime | None = None
    outcome: str = ""  # what happened: "sent", or why it was not needed any more
    id: int | None = None


def zone(name: str | None) -> ZoneInfo:
    """A person's time zone; an unknown name falls back to the hub's."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietHours:
    """A nightly window, in each person's local time, when nothing is sent to them."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> "QuietHours | None":
        """``21:00-08:00`` (may cross midnight); ``off`` or empty for none."""
        if text.strip().lower() in ("", "off", "none"):
            return None
        match = _WINDOW.match(text)
        if match is None:
            raise ValueError(f"quiet hours must look like 21:00-08:00 or be 'off', not {text!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"{text!r} is not a time range")
        return cls(time(h1, m1), time(h2, m2))

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # across midnight

    def next_allowed(self, at: datetime, timezone: str | None) -> datetime:
        """``at`` itself when it is outside the window for this person; otherwise the end
        of their night (in UTC), as their wall clock says, daylight saving included."""
        tz = zone(timezone)
        local = at.astimezone(tz)
        if not self.contains(local.timetz().replace(tzinfo=None)):
            return at
        morning = datetime.combine(local.date(), self.end, tzinfo=tz)
        if morning <= local:
            morning = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=tz)
        # ``combine`` with a zone picks the right offset for that date (DST), folds aside.
        return morning.astimezone(UTC)


@dataclass(frozen=True)
class Timings:
    """How long things wait. Durations in settings are written 90s, 30m, 24h, 14d."""

    remind_after: timedelta = timedelta(hours=24)
    reassign_after: timedelta = timedelta(hours=48)
    follow_up_after: timedelta = timedelta(days=14)
    digest_every: timedelta = timedelta(days=7)
    quiet_hours: QuietHours | None = QuietHours(time(21, 0), time(8, 0))
