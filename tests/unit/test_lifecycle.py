"""A ticket's life over time, with a clock the test turns: reminders, reassignment,
follow-ups, digests and quiet hours, over hand-written fakes."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest

from helpdesk.domain.people import Role
from helpdesk.domain.schedule import ActionKind, QuietHours, format_duration, parse_duration
from helpdesk.domain.tickets import TicketEventKind, TicketStatus
from tests.fakes import FakeClock, FakeStore
from tests.support import Chat, Delivered

QUESTION = "What is the procedure for a building permit extension in a protected zone?"


@pytest.fixture
async def people(chat: Chat) -> Chat:
    await chat.add_person("ana", Role.OFFICIAL, city="Kumanovo", languages=("en",))
    await chat.add_person("vesna", Role.EXPERT, city="Sarajevo", languages=("en",))
    await chat.add_person("goran", Role.EXPERT, city="Skopje", languages=("en",))
    await chat.add_person("hana", Role.STAFF, languages=("en",))
    return chat


def to(delivered: list[Delivered], address: str) -> list[str]:
    return [d.text for d in delivered if d.address == address]


async def escalate(chat: Chat, text: str = QUESTION) -> tuple[int, str]:
    """Ana's question becomes a ticket; returns its number and the expert who got it."""
    delivered = await chat.say("ana", f"/ask {text}")
    notice = next(d for d in delivered if "New question for you" in d.text)
    found = re.search(r"ticket #(\d+)", notice.text)
    assert found is not None
    return int(found[1]), notice.address


def other(expert: str) -> str:
    return "goran" if expert == "vesna" else "vesna"


def kinds(events: list[TicketEventKind]) -> list[str]:
    return [e.value for e in events]


async def test_the_full_life_of_a_ticket(people: Chat, store: FakeStore, clock: FakeClock) -> None:
    chat = people
    number, first = await escalate(chat)
    second = other(first)
    assert await chat.tick() == []  # nothing is due yet

    clock.advance(hours=24)
    reminded = await chat.tick()
    assert [d.address for d in reminded] == [first]
    assert f"Reminder: ticket #{number} has been waiting" in reminded[0].text
    assert await chat.tick() == []  # once only

    clock.advance(hours=24)
    moved = await chat.tick()
    assert "passed to another expert" in to(moved, first)[0]
    assert f"New question for you: ticket #{number}" in to(moved, second)[0]

    clock.advance(hours=2)
    await chat.say(second, f"/answer {number} Ask the regional planning office.")
    assert ActionKind.FOLLOW_UP in [a.kind for a in store.schedule.values() if a.done_at is None]
    assert not [
        a for a in store.schedule.values() if a.done_at is None and a.kind is ActionKind.REASSIGN
    ]

    clock.advance(days=14)
    [follow] = [d for d in await chat.tick() if d.address == "ana"]
    assert "Did it help" in follow.text
    assert [label for label, _ in follow.buttons] == ["Solved", "Partly", "I need more help"]

    reopened = await chat.say("ana", f"/followup {number} more_help")
    assert f"reopened ticket #{number}" in to(reopened, "ana")[0]
    assert "back with you" in to(reopened, second)[0]  # the same expert, not the first one
    assert store.tickets[number].status is TicketStatus.ASSIGNED

    await chat.say(second, f"/answer {number} Also check the heritage law, article 12.")
    clock.advance(days=14)
    follow = await chat.tick()
    assert "Did it help" in to(follow, "ana")[0]
    thanks = await chat.say("ana", f"/followup {number} solved")
    assert "from 1 (poor) to 5 (excellent)" in to(thanks, "ana")[0]
    rated = await chat.say("ana", f"/rate {number} 5 clear and quick")
    assert "5 of 5" in to(rated, "ana")[0]

    ticket = store.tickets[number]
    assert ticket.status is TicketStatus.CLOSED and ticket.score == 5
    assert ticket.comment == "clear and quick"
    assert kinds([e.kind for e in ticket.events]) == [
        "created",
        "assigned",
        "reminded",
        "reassigned",
        "answered",
        "followed_up",  # asked
        "followed_up",  # more help
        "reopened",
        "assigned",
        "answered",
        "followed_up",
        "followed_up",
        "rated",
        "closed",
    ]
    assert "no answer within 2d" in ticket.events[3].detail


async def test_a_decline_reassigns_at_once_and_moves_the_timers(
    people: Chat, store: FakeStore, clock: FakeClock
) -> None:
    chat = people
    number, first = await escalate(chat)
    delivered = await chat.say(first, f"/decline {number}")
    second = other(first)
    assert f"New question for you: ticket #{number}" in to(delivered, second)[0]
    pending = [a for a in store.schedule.values() if a.done_at is None]
    assert {a.person_id for a in pending} == {store.tickets[number].assignee_id}
    clock.advance(hours=24)
    assert [d.address for d in await chat.tick()] == [second]


async def test_an_away_expert_gets_nothing_new_and_loses_what_waits_too_long(
    people: Chat, store: FakeStore, clock: FakeClock
) -> None:
    chat = people
    number, first = await escalate(chat)
    away = await chat.said_to(first, "/away 10d")
    assert "you are away until 2026-03-12" in away.text
    delivered = await chat.say("ana", "/ask How do other towns fund youth centres?")
    assert not to(delivered, first)  # ticket 2 went to the other expert
    clock.advance(hours=48)
    moved = await chat.tick()
    assert any(f"New question for you: ticket #{number}" in t for t in to(moved, other(first)))
    back = await chat.said_to(first, "/back")
    assert "Welcome back" in back.text


async def test_when_nobody_is_left_staff_are_alerted_and_nothing_more_is_scheduled(
    people: Chat, store: FakeStore, clock: FakeClock
) -> None:
    chat = people
    number, first = await escalate(chat)
    await chat.say(other(first), "/away 30d")
    clock.advance(hours=48)
    delivered = await chat.tick()
    assert f"Ticket #{number} needs an expert, but none can take it" in to(delivered, "hana")[0]
    # The expert it timed out with is not told it went to another expert: nobody took it.
    [told] = [text for text in to(delivered, first) if "without an answer" in text]
    assert "No other expert can take it now" in told and "another expert" not in told
    assert store.tickets[number].status is TicketStatus.OPEN
    assert [a for a in store.schedule.values() if a.done_at is None and a.ticket_id] == []


async def test_quiet_hours_hold_a_reminder_until_the_morning(
    people: Chat, store: FakeStore, clock: FakeClock
) -> None:
    chat = people
    clock.now = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 22:30 in Belgrade
    _, first = await escalate(chat)
    clock.advance(hours=24)  # due at 22:30 local: night
    assert await chat.tick() == []
    clock.now = datetime(2026, 3, 4, 6, 59, tzinfo=UTC)  # 07:59 local
    assert await chat.tick() == []
    clock.now = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)  # 08:00 local
    assert [d.address for d in await chat.tick()] == [first]


async def test_quiet_hours_follow_the_persons_time_zone(
    people: Chat, store: FakeStore, clock: FakeClock
) -> None:
    chat = people
    _, first = await escalate(chat)
    expert = next(p for p in store.people.values() if p.name.lower() == first)
    expert.timezone = "America/New_York"  # 10:00 in Belgrade is 04:00 there
    clock.advance(hours=24)
    assert await chat.tick() == []
    clock.now = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # 08:00 in New York
    assert [d.address for d in await chat.tick()] == [first]


def test_quiet_hours_across_midnight_and_a_daylight_saving_change() -> None:
    night = QuietHours(time(21, 0), time(8, 0))
    assert night.contains(time(23, 30)) and night.contains(time(2, 0))
    assert not night.contains(time(8, 0)) and not night.contains(time(20, 59))
    # The night clocks go forward in Belgrade (29 March 2026): 08:00 is then 06:00 UTC.
    late = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # 23:00 CET
    assert night.next_allowed(late, "Europe/Belgrade") == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    # And back in October: 08:00 CET is 07:00 UTC.
    late = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # 00:00 CEST
    assert night.next_allowed(late, "Europe/Belgrade") == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    day = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert night.next_allowed(day, "Europe/Belgrade") == day
    assert night.next_allowed(day, "Not/AZone") == day  # an unknown zone: the hub's
    assert QuietHours.parse("off") is None
    with pytest.raises(ValueError):
        QuietHours.parse("late")


def test_durations_are_written_as_in_the_settings() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert [format_duration(parse_duration(t)) for t in ("14d", "48h", "30m", "90s")] == [
        "14d",
        "2d",
        "30m",
        "90s",
    ]


async def test_a_weekly_digest_for_staff(people: Chat, store: FakeStore, clock: FakeClock) -> None:
    chat = people
    await chat.tick()  # schedules the first digest
    number, expert = await escalate(chat)
    await escalate(chat, "What is the procedure for a building permit in a protected zone?")
    await escalate(chat, "How do other towns fund youth centres?")
    clock.advance(hours=5)
    await chat.say(expert, f"/answer {number} Ask the regional planning office.")
    await chat.say("ana", f"/rate {number} helpful")
    clock.advance(days=7)
    digest = to(await chat.tick(), "hana")
    assert len(digest) == 1
    text = digest[0]
    assert "new tickets: 3; answered: 1" in text
    assert "median time to the first answer: 5h" in text
    assert "ratings: 1 helpful, 0 not helpful" in text
    assert "2 × What is the procedure for a building permit" in text
    nxt = [a for a in store.schedule.values() if a.kind is ActionKind.DIGEST and not a.done_at]
    assert len(nxt) == 1 and nxt[0].due_at == datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


async def test_tickets_show_what_is_scheduled_next(people: Chat, clock: FakeClock) -> None:
    chat = people
    _, first = await escalate(chat)
    listing = await chat.said_to(first, "/tickets")
    assert "next: reminder to the expert, 2026-03-03 10:00" in listing.text


async def test_a_failing_action_is_retried_later_not_in_a_loop(
    people: Chat, store: FakeStore, clock: FakeClock
) -> None:
    chat = people
    await escalate(chat)
    reminder = next(a for a in store.schedule.values() if a.kind is ActionKind.REMIND_EXPERT)
    reminder.person_id = 999  # gone
    clock.advance(hours=24)
    await chat.tick()
    assert store.schedule[reminder.id or 0].outcome == "skipped: the person is gone"
