"""Numbered choices and hostile numbers over hand-written fakes: a number acts only on the
last message shown, nothing waiting becomes unreachable, numbers the database cannot hold
and digits that are not ASCII get a clear reply, every argument has its limit."""

import re

import pytest

from helpdesk.domain.people import Role
from helpdesk.services.commands import parse_number
from tests.fakes import FakeClock, FakeStore
from tests.support import Chat, Delivered

UNMATCHED = "What is the procedure for a building permit extension in a protected zone?"


@pytest.fixture
async def people(chat: Chat) -> Chat:
    await chat.add_person("ana", Role.OFFICIAL, city="Kumanovo", languages=("en",))
    await chat.add_person("vesna", Role.EXPERT, city="Sarajevo", languages=("en",), capacity=9)
    await chat.add_person("hana", Role.STAFF, languages=("en",))
    return chat


def to(delivered: list[Delivered], address: str) -> list[Delivered]:
    return [d for d in delivered if d.address == address]


async def two_answers_waiting(chat: Chat) -> tuple[int, int]:
    """Two of Ana's tickets answered, the second last; their numbers."""
    numbers = []
    for question in (UNMATCHED, UNMATCHED.replace("permit", "licence")):
        found = re.search(r"ticket #(\d+)", (await chat.said_to("ana", question)).text)
        assert found is not None
        numbers.append(int(found[1]))
    for number in numbers:
        await chat.say("vesna", f"/answer {number} The answer to {number}.")
    return numbers[0], numbers[1]


async def test_with_two_answers_waiting_a_number_rates_the_last_and_the_other_comes_back(
    people: Chat, store: FakeStore
) -> None:
    first, second = await two_answers_waiting(people)
    delivered = to(await people.say("ana", "1"), "ana")  # Helpful, under the last answer
    assert store.tickets[second].rating is not None and store.tickets[first].rating is None
    # The earlier answer is shown again with its buttons: still reachable by number.
    again = delivered[-1]
    assert "still waiting for your choice" in again.text and f"ticket #{first}" in again.text
    assert [label for label, _ in again.buttons] == ["Helpful", "Not helpful"]
    await people.say("ana", "1")
    assert store.tickets[first].rating is not None


async def test_a_number_after_another_message_shows_the_choices_again_instead_of_acting(
    people: Chat, store: FakeStore
) -> None:
    first, second = await two_answers_waiting(people)
    await people.say("ana", "/tickets")  # a reply without choices: "1" means nothing now
    reply = await people.said_to("ana", "2")
    assert "still waiting for your choice" in reply.text and f"ticket #{second}" in reply.text
    assert store.tickets[second].rating is None and store.tickets[first].rating is None
    await people.say("ana", "2")  # now it answers what was just shown: Not helpful
    rating = store.tickets[second].rating
    assert rating is not None and rating.value == "not_helpful"


async def test_a_confirmation_lapses_and_is_never_shown_again(
    people: Chat, store: FakeStore
) -> None:
    await people.say("ana", "/forget")
    await people.say("ana", "/tickets")
    reply = await people.said_to("ana", "1")
    assert "no longer available" in reply.text
    assert store.people[1].erased_at is None


async def test_a_ticket_is_scored_once(people: Chat, store: FakeStore) -> None:
    first, _ = await two_answers_waiting(people)
    assert "5 of 5" in (await people.said_to("ana", f"/rate {first} 5")).text
    again = await people.said_to("ana", f"/rate {first} 1 changed my mind")
    assert f"rated ticket #{first} already (5 of 5)" in again.text
    assert store.tickets[first].score == 5 and store.tickets[first].comment is None


@pytest.mark.parametrize(
    "command",
    [
        "/cancel ²",
        "/cancel ٣",
        "/cancel -1",
        "/cancel 0",
        "/cancel 99999999999999999999",
        "/pick 99999999999999999999 1",
        "/pick 1 99999999999999999999",
        "/feedback 99999999999999999999 helpful",
        "/escalate 99999999999999999999",
        "/rate 99999999999999999999 5",
        "/followup ¹ solved",
        "/answer 99999999999999999999 text",
        "/decline 2147483648",
        "/connect 99999999999999999999",
        "99999999999999999999",
        "²",
    ],
)
async def test_hostile_numbers_get_a_clear_reply_not_the_apology(
    people: Chat, store: FakeStore, command: str
) -> None:
    reply = await people.said_to("ana" if "answer" not in command else "vesna", command)
    assert "went wrong on our side" not in reply.text
    assert not to(people.transport.sent, "hana")  # nothing for staff to look into


@pytest.mark.parametrize(
    ("who", "command", "limit"),
    [
        ("ana", "/rate FIRST 5 " + "x" * 1001, 1000),
        ("hana", "/phrase lsc-setup " + "How? " * 801, 4000),
        ("hana", "/introduce 1 " + "c" * 1001, 1000),
        ("ana", "/ask " + "q" * 4001, 4000),
        ("ana", "/language " + "x" * 5000, 4000),
    ],
)
async def test_every_argument_has_its_limit(
    people: Chat, store: FakeStore, who: str, command: str, limit: int
) -> None:
    first, _ = await two_answers_waiting(people)
    before = dict(store.entries)
    reply = await people.said_to(who, command.replace("FIRST", str(first)))
    assert f"under {limit} characters" in reply.text, reply.text
    assert store.tickets[first].comment is None and store.entries == before


async def test_the_apology_is_true_staff_are_told_once_a_while(
    people: Chat, store: FakeStore, clock: FakeClock
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    people.helpdesk._commands["tickets"] = (None, broken)  # type: ignore[assignment]
    first = await people.say("ana", "/tickets")
    assert "went wrong on our side" in to(first, "ana")[0].text
    [told] = to(first, "hana")
    assert "could not be handled" in told.text and "/tickets" not in told.text
    second = await people.say("ana", "/tickets")
    assert to(second, "ana") and not to(second, "hana")  # not one message per failure
    clock.advance(minutes=11)
    assert to(await people.say("ana", "/tickets"), "hana")


def test_numbers_are_ascii_digits_the_database_can_hold() -> None:
    assert parse_number("12") == 12 and parse_number("#12") == 12 and parse_number(" 7 ") == 7
    for text in ("²", "٣", "1²", "-1", "0", "1.5", "2147483648", "9" * 30, "", "#"):
        assert parse_number(text) is None, text
    assert parse_number("2147483647") == 2**31 - 1


async def test_a_knowledge_folder_that_cannot_be_written_changes_nothing(
    people: Chat, store: FakeStore
) -> None:
    def unwritable(entry: object) -> None:
        raise PermissionError(13, "Permission denied")

    people.helpdesk.write_entry = unwritable
    reply = await people.said_to("hana", "/retire lsc-setup")
    assert "Nothing was changed" in reply.text and "Permission denied" in reply.text
    assert store.entries["lsc-setup"].is_published


async def test_an_entry_takes_a_bounded_number_of_phrasings(
    people: Chat, store: FakeStore, clock: FakeClock
) -> None:
    for number in range(100 - len(store.entries["lsc-setup"].questions)):
        clock.advance(seconds=2)  # slower than the per-minute limit
        await people.say("hana", f"/phrase lsc-setup Another way of asking, number {number}?")
    assert len(store.entries["lsc-setup"].questions) == 100
    reply = await people.said_to("hana", "/phrase lsc-setup One way too many?")
    assert "100 ways of asking already" in reply.text
    assert len(store.entries["lsc-setup"].questions) == 100
