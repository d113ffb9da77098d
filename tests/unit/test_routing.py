from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.domain.people import Person, Role
from helpdesk.domain.routing import ExpertLoad, route_ticket

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OFFICIAL = Person(
    id=1,
    name="Ana",
    role=Role.OFFICIAL,
    city="Kumanovo",
    country="North Macedonia",
    languages=("mk", "en"),
)


def expert(person_id: int, **fields: object) -> Person:
    values: dict[str, object] = {"languages": ("en",), "city": "Sarajevo", "capacity": 3}
    values.update(fields)
    return Person(id=person_id, name=f"Expert {person_id}", role=Role.EXPERT, **values)  # type: ignore[arg-type]


def route(
    *loads: ExpertLoad,
    topics: tuple[str, ...] = (),
    language: str | None = None,
    exclude: tuple[int, ...] = (),
    official: Person = OFFICIAL,
) -> int | None:
    decision = route_ticket(
        official=official, language=language, topics=topics, experts=loads, now=NOW, exclude=exclude
    )
    return decision.expert.id if decision.expert else None


def test_needs_a_shared_language() -> None:
    assert (
        route(ExpertLoad(expert(10, languages=("sq",))), ExpertLoad(expert(11, languages=("mk",))))
        == 11
    )
    assert route(ExpertLoad(expert(10, languages=("sq", "fr")))) is None


def test_the_question_language_counts_too() -> None:
    official = Person(id=1, name="A", role=Role.OFFICIAL, languages=())
    assert route(ExpertLoad(expert(10, languages=("fr",))), language="fr", official=official) == 10


def test_bosnian_croatian_serbian_montenegrin_understand_each_other() -> None:
    official = Person(id=1, name="A", role=Role.OFFICIAL, languages=("bs",))
    assert route(ExpertLoad(expert(10, languages=("sr-Latn",))), official=official) == 10
    assert route(ExpertLoad(expert(11, languages=("cnr",))), official=official) == 11
    assert route(ExpertLoad(expert(12, languages=("mk",))), official=official) is None


def test_away_experts_are_skipped_until_they_are_back() -> None:
    away = expert(10, away_until=NOW + timedelta(days=2))
    back = expert(11, away_until=NOW - timedelta(hours=1))
    assert route(ExpertLoad(away)) is None
    assert route(ExpertLoad(away), ExpertLoad(back)) == 11


def test_full_experts_are_skipped() -> None:
    assert (
        route(
            ExpertLoad(expert(10, capacity=2), open_tickets=2),
            ExpertLoad(expert(11), open_tickets=2),
        )
        == 11
    )


def test_experts_already_tried_are_skipped() -> None:
    assert route(ExpertLoad(expert(10)), ExpertLoad(expert(11)), exclude=(10,)) == 11


def test_only_experts_are_routed_to() -> None:
    staff = Person(id=10, name="S", role=Role.STAFF, languages=("en",))
    assert route(ExpertLoad(staff)) is None


def test_topic_overlap_wins_over_load_and_city() -> None:
    generalist = ExpertLoad(expert(10, topics=()), open_tickets=0)
    specialist = ExpertLoad(expert(11, topics=("youth", "trust"), city="Kumanovo"), open_tickets=2)
    assert route(generalist, specialist, topics=("youth",)) == 11


def test_more_topics_in_common_wins() -> None:
    one = ExpertLoad(expert(10, topics=("youth",)))
    two = ExpertLoad(expert(11, topics=("youth", "trust")))
    assert route(one, two, topics=("youth", "trust")) == 11


def test_another_city_is_preferred_for_peer_learning() -> None:
    same = ExpertLoad(expert(10, city="kumanovo "))
    other = ExpertLoad(expert(11, city="Podgorica"), open_tickets=1)
    assert route(same, other) == 11


def test_then_the_least_loaded() -> None:
    busy = ExpertLoad(expert(10), open_tickets=2)
    idle = ExpertLoad(expert(11), open_tickets=0)
    assert route(busy, idle) == 11


def test_then_the_least_recently_assigned() -> None:
    recent = ExpertLoad(expert(10), last_assigned_at=NOW - timedelta(hours=1))
    earlier = ExpertLoad(expert(11), last_assigned_at=NOW - timedelta(days=3))
    never = ExpertLoad(expert(12), last_assigned_at=None)
    assert route(recent, earlier) == 11
    assert route(recent, earlier, never) == 12


def test_a_full_tie_goes_to_the_lowest_id_so_routing_is_deterministic() -> None:
    assert route(ExpertLoad(expert(12)), ExpertLoad(expert(11))) == 11


def test_the_reason_is_recorded() -> None:
    decision = route_ticket(
        official=OFFICIAL,
        language="mk",
        topics=("youth",),
        experts=[ExpertLoad(expert(11, topics=("youth",), languages=("mk",)), open_tickets=1)],
        now=NOW,
    )
    assert "youth" in decision.reason
    assert "another city" in decision.reason
    assert "1/3" in decision.reason


@pytest.mark.parametrize(
    ("loads", "words"),
    [
        ((), "no experts"),
        ((ExpertLoad(expert(10, away_until=NOW + timedelta(days=1))),), "1 away"),
        ((ExpertLoad(expert(10, languages=("sq",))),), "1 language"),
        ((ExpertLoad(expert(10), open_tickets=3),), "1 full"),
    ],
)
def test_no_expert_says_why(loads: tuple[ExpertLoad, ...], words: str) -> None:
    decision = route_ticket(official=OFFICIAL, language=None, topics=(), experts=loads, now=NOW)
    assert decision.expert is None
    assert words in decision.reason
