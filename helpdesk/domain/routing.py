"""Which expert gets a ticket, and why.

The rules, in order: the expert must be available, below capacity, not already
tried on this ticket, and share a language with the official; among those,
prefer the most topics in common with the question, then another city than the
official's (peer learning between cities), then the fewest open tickets, then
whoever was assigned least recently.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from helpdesk.domain.languages import shares_language
from helpdesk.domain.people import Person

__all__ = ["ExpertLoad", "RoutingDecision", "route_ticket"]


@dataclass(frozen=True)
class ExpertLoad:
    """An expert with their current workload, as routing needs it."""

    expert: Person
    open_tickets: int = 0
    last_assigned_at: datetime | None = None


@dataclass(frozen=True)
class RoutingDecision:
    expert: Person | None
    reason: str  # stored in the ticket's history so staff can see why


def route_ticket(
    *,
    official: Person,
    language: str | None,
    topics: Iterable[str],
    experts: Iterable[ExpertLoad],
    now: datetime,
    exclude: Iterable[int] = (),
) -> RoutingDecision:
    """Pick the expert for a ticket from ``official`` about ``topics``, written in ``language``."""
    wanted_topics = frozenset(topics)
    excluded = frozenset(exclude)
    languages = tuple(dict.fromkeys([*official.languages, *([language] if language else [])]))

    eligible: list[ExpertLoad] = []
    rejected = {"away": 0, "full": 0, "language": 0, "tried": 0}
    for load in experts:
        expert = load.expert
        if not expert.is_expert or expert.id is None:
            continue
        if expert.id in excluded:
            rejected["tried"] += 1
        elif not expert.is_available(now):
            rejected["away"] += 1
        elif load.open_tickets >= expert.capacity:
            rejected["full"] += 1
        elif languages and not shares_language(languages, expert.languages):
            rejected["language"] += 1
        else:
            eligible.append(load)

    if not eligible:
        why = ", ".join(f"{n} {what}" for what, n in rejected.items() if n) or "no experts"
        return RoutingDecision(None, f"no eligible expert ({why})")

    def rank(load: ExpertLoad) -> tuple[int, bool, int, datetime, int]:
        expert = load.expert
        overlap = len(wanted_topics & frozenset(expert.topics))
        never = datetime.min.replace(tzinfo=now.tzinfo)
        return (
            -overlap,
            expert.same_city(official),
            load.open_tickets,
            load.last_assigned_at or never,
            expert.id or 0,
        )

    best = min(eligible, key=rank)
    expert = best.expert
    common = sorted(wanted_topics & frozenset(expert.topics))
    parts = [
        f"shares a language ({', '.join(expert.languages) or 'any'})",
        f"topics in common: {', '.join(common) if common else 'none'}",
        "same city" if expert.same_city(official) else "another city",
        f"load {best.open_tickets}/{expert.capacity}",
        f"chosen from {len(eligible)} eligible",
    ]
    return RoutingDecision(expert, "; ".join(parts))
