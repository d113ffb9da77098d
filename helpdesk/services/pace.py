"""Per-person pace: someone sending faster than a person types is slowed down politely.

A sliding window of recent message times per sender, in memory (each bot process counts
its own; that is enough against a runaway script or a stuck key). The first message over
the limit gets a reply saying to wait; the rest of that minute are recorded as received
and not answered, which the reply has said.
"""

from collections import deque
from datetime import datetime, timedelta

__all__ = ["Pace", "Verdict"]

Verdict = str  # "ok" | "warn" (over the limit: say so once) | "quiet" (over, said already)


class Pace:
    def __init__(self, per_minute: int = 40, window: timedelta = timedelta(minutes=1)) -> None:
        self.per_minute = per_minute
        self.window = window
        self._recent: dict[str, deque[datetime]] = {}
        self._warned: dict[str, datetime] = {}

    def check(self, sender: str, now: datetime) -> Verdict:
        recent = self._recent.setdefault(sender, deque())
        while recent and now - recent[0] >= self.window:
            recent.popleft()
        if len(recent) < self.per_minute:
            recent.append(now)
            self._warned.pop(sender, None)
            return "ok"
        warned = self._warned.get(sender)
        if warned is not None and now - warned < self.window:
            return "quiet"
        self._warned[sender] = now
        return "warn"
