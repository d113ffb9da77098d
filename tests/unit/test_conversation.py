"""The conversation service over hand-written in-memory fakes."""

from collections.abc import Sequence

import pytest

from helpdesk.domain.knowledge import Entry
from helpdesk.domain.people import Role
from helpdesk.domain.questions import Action, Feedback
from helpdesk.domain.tickets import TicketEventKind, TicketStatus
from helpdesk.matching import Matcher
from helpdesk.services.conversation import Helpdesk
from helpdesk.services.knowledge import KnowledgeIndex
from tests.fakes import FakeClock, FakeStore, FakeUnitOfWork
from tests.support import Chat

UNMATCHED = "What is the procedure for a building permit extension in a protected zone?"


@pytest.fixture
async def people(chat: Chat) -> Chat:
    await chat.add_person("ana", Role.OFFICIAL, city="Kumanovo", languages=("mk", "en"))
    await chat.add_person("boris", Role.OFFICIAL, city="Podgorica", languages=("cnr",))
    await chat.add_person(
        "vesna", Role.EXPERT, city="Sarajevo", languages=("bs", "en"), topics=("youth",)
    )
    await chat.add_person("goran", Role.EXPERT, city="Skopje", languages=("mk", "en"))
    await chat.add_person("hana", Role.STAFF, languages=("en",))
    return chat


async def ticket_for(chat: Chat, address: str, text: str = UNMATCHED) -> int:
    delivered = await chat.say(address, text)
    to_sender = [d for d in delivered if d.address == address]
    assert "ticket #" in to_sender[0].text, to_sender
    return int(to_sender[0].text.split("ticket #")[1].split(")")[0].split(".")[0])


# -- strangers and registration ---------------------------------------------------------


async def test_a_stranger_gets_an_explanation_and_nothing_else(
    chat: Chat, store: FakeStore
) -> None:
    for text in ("Hello", "How do we set up a local safety council?", "/tickets", "/answer 1 x"):
        reply = await chat.said_to("stranger", text)
        assert "invitation only" in reply.text
        assert reply.buttons == ()
    assert store.questions == {} and store.tickets == {}


async def test_registration_with_a_valid_code(chat: Chat, store: FakeStore) -> None:
    await chat.invite(
        Role.EXPERT,
        "AAAA-BBBB-CCCC",
        name="Mira",
        city="Shkodër",
        languages=("sq", "en"),
        topics=("youth",),
    )
    reply = await chat.said_to("mira", "/start aaaa bbbb cccc")  # case and spacing forgiven
    assert "Welcome, Mira" in reply.text and "an expert" in reply.text
    (person,) = store.people.values()
    assert (person.name, person.role, person.city, person.languages) == (
        "Mira",
        Role.EXPERT,
        "Shkodër",
        ("sq", "en"),
    )


async def test_an_invitation_works_once(chat: Chat) -> None:
    await chat.invite(Role.OFFICIAL, "AAAA-BBBB-CCCC")
    assert "Welcome" in (await chat.said_to("first", "/start AAAA-BBBB-CCCC")).text
    assert "not valid" in (await chat.said_to("second", "/start AAAA-BBBB-CCCC")).text
    assert "invitation only" in (await chat.said_to("second", "hello")).text


async def test_an_expired_invitation_is_refused(chat: Chat, clock: FakeClock) -> None:
    await chat.invite(Role.OFFICIAL, "AAAA-BBBB-CCCC")
    clock.advance(days=31)
    assert "not valid" in (await chat.said_to("late", "/start AAAA-BBBB-CCCC")).text


async def test_start_without_a_code_and_when_registered(people: Chat) -> None:
    assert "/start followed by" in (await people.said_to("newcomer", "/start")).text
    assert "already registered" in (await people.said_to("ana", "/start XYZ")).text


# -- asking ------------------------------------------------------------------------------


async def test_a_clear_question_gets_the_entry_with_its_source_and_buttons(
    people: Chat, store: FakeStore
) -> None:
    reply = await people.said_to("ana", "Како да основаме локален совет за безбедност?")
    assert reply.text.startswith("Setting up a Local Safety Council")
    assert "Good practice from Danilovgrad, Montenegro." in reply.text
    assert "Source: Danilovgrad workshop report" in reply.text
    assert [label for label, _ in reply.buttons] == [
        "Helpful",
        "Not helpful",
        "Ask an expert",
        "Connect me with Danilovgrad",
    ]
    (question,) = store.questions.values()
    assert question.action is Action.ANSWER and question.entry_id == "lsc-setup"
    assert question.language == "mk"


async def test_a_number_presses_the_button(people: Chat, store: FakeStore) -> None:
    await people.say("ana", "How do we set up a local safety council?")
    assert "glad it helped" in (await people.said_to("ana", "1")).text
    (question,) = store.questions.values()
    assert question.feedback is Feedback.HELPFUL
    assert "no longer available" in (await people.said_to("ana", "7")).text


async def test_a_number_never_presses_a_button_of_an_older_reply(
    people: Chat, store: FakeStore
) -> None:
    confirm = await people.said_to("ana", "/forget")
    assert confirm.buttons == (("Yes, erase my data", "/forget yes"),)
    await people.say("ana", "/tickets")  # a reply without choices
    assert "no longer available" in (await people.said_to("ana", "1")).text
    assert not store.erased  # the old "Yes, erase my data" was not pressed


async def test_not_helpful_offers_an_expert(people: Chat, store: FakeStore) -> None:
    await people.say("ana", "How do we set up a local safety council?")
    reply = await people.said_to("ana", "2")
    assert reply.buttons[0][0] == "Ask an expert"
    delivered = await people.say("ana", "1")
    assert any("New question for you" in d.text for d in delivered)
    (ticket,) = store.tickets.values()
    assert ticket.text == "How do we set up a local safety council?"


async def test_suggestions_then_a_pick_shows_that_entry(store: FakeStore, clock: FakeClock) -> None:
    twins = (
        Entry(
            id="a",
            title="Youth council",
            questions=("How do we run a youth council?",),
            body="Council answer.",
        ),
        Entry(
            id="b",
            title="Youth club",
            questions=("How do we run a youth club?",),
            body="Club answer.",
        ),
    )
    chat = Chat(lambda: FakeUnitOfWork(store), clock, entries=twins)
    await chat.setup()
    await chat.add_person("ana", Role.OFFICIAL, languages=("en",))
    reply = await chat.said_to("ana", "how do we run a youth")
    labels = [label for label, _ in reply.buttons]
    assert set(labels[:2]) == {"Youth council", "Youth club"}
    assert labels[-1] == "None of these: ask an expert"
    picked = await chat.said_to("ana", str(labels.index("Youth club") + 1))
    assert "Club answer." in picked.text
    question = next(iter(store.questions.values()))
    assert question.action is Action.SUGGEST and question.entry_id == "b"


async def test_greetings_are_not_questions(people: Chat, store: FakeStore) -> None:
    for text in ("Hello!", "Dobar dan", "Здраво", "Thanks a lot"):
        assert "write your question" in (await people.said_to("ana", text)).text
    assert store.questions == {} and store.tickets == {}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (None, "only read text"),
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 4001, "too long (4001 characters)"),
        ("?!?! 123", "any words"),
        ("a", "a few more words"),
        ("/frobnicate now", "don't know the command /frobnicate"),
        ("\x00\x01binary", "only read text"),
    ],
)
async def test_bad_input_gets_a_clear_reply(people: Chat, text: str | None, words: str) -> None:
    assert words in (await people.said_to("ana", text)).text


# -- tickets ------------------------------------------------------------------------------


async def test_no_match_becomes_a_ticket_routed_by_language(people: Chat, store: FakeStore) -> None:
    delivered = await people.say("ana", UNMATCHED)
    to_ana = [d for d in delivered if d.address == "ana"]
    to_goran = [d for d in delivered if d.address == "goran"]
    assert "passed your question to an expert (ticket #" in to_ana[0].text
    # Ana speaks mk and en; both experts speak en; routing prefers... whoever ranks first,
    # and the reason is recorded.
    (ticket,) = store.tickets.values()
    assert ticket.status is TicketStatus.ASSIGNED
    assigned = ticket.events[-1]
    assert assigned.kind is TicketEventKind.ASSIGNED and "shares a language" in assigned.detail
    expert_address = "goran" if to_goran else "vesna"
    (note,) = [d for d in delivered if d.address == expert_address]
    assert f"ticket #{ticket.id}" in note.text and UNMATCHED in note.text
    assert "Kumanovo" in note.text  # the official's city, not their name
    assert "Ana" not in note.text
    assert note.ref == f"ticket:{ticket.id}"


async def test_the_expert_answers_and_the_official_rates(people: Chat, store: FakeStore) -> None:
    number = await ticket_for(people, "boris")  # cnr: only Vesna (bs) shares a language
    answered = await people.say("vesna", f"/answer {number} Ask the cadastre office first.")
    to_boris = [d for d in answered if d.address == "boris"]
    assert "An expert answered your question" in to_boris[0].text
    assert "Ask the cadastre office first." in to_boris[0].text
    assert "Vesna, Sarajevo" in to_boris[0].text
    assert "sent to the official" in next(d for d in answered if d.address == "vesna").text
    assert "closed" in (await people.said_to("boris", "1")).text  # Helpful
    ticket = store.tickets[number]
    assert ticket.status is TicketStatus.CLOSED and ticket.rating is Feedback.HELPFUL


async def test_the_expert_can_answer_by_replying_to_the_notification(
    people: Chat, store: FakeStore
) -> None:
    delivered = await people.say("boris", UNMATCHED)
    (note,) = [d for d in delivered if d.address == "vesna"]
    message_id = f"test-{people.transport.sent.index(note) + 1}"
    answered = await people.say("vesna", "Start with the cadastre.", reply_to=message_id)
    assert any(d.address == "boris" and "Start with the cadastre." in d.text for d in answered)
    (ticket,) = store.tickets.values()
    assert ticket.status is TicketStatus.ANSWERED


async def test_decline_passes_the_ticket_on_and_never_back(people: Chat, store: FakeStore) -> None:
    number = await ticket_for(people, "ana")
    first = store.tickets[number].assignee_id
    first_address = "vesna" if store.people[first].name == "Vesna" else "goran"
    other_address = "goran" if first_address == "vesna" else "vesna"
    delivered = await people.say(first_address, f"/decline {number}")
    assert any(d.address == other_address and f"#{number}" in d.text for d in delivered)
    ticket = store.tickets[number]
    assert ticket.assignee_id != first and ticket.status is TicketStatus.ASSIGNED
    # The second declines too: nobody left, staff are told.
    delivered = await people.say(other_address, f"/decline {number}")
    assert any(d.address == "hana" and f"#{number}" in d.text for d in delivered)
    assert store.tickets[number].status is TicketStatus.OPEN


async def test_no_expert_means_staff_are_told(chat: Chat, store: FakeStore) -> None:
    await chat.add_person("ana", Role.OFFICIAL, languages=("mk",))
    await chat.add_person("mira", Role.EXPERT, languages=("sq",))
    await chat.add_person("hana", Role.STAFF)
    delivered = await chat.say("ana", UNMATCHED)
    to_ana = [d.text for d in delivered if d.address == "ana"]
    to_staff = [d.text for d in delivered if d.address == "hana"]
    assert "No expert is free right now" in to_ana[0]
    assert "none can take it" in to_staff[0] and "1 language" in to_staff[0]
    (ticket,) = store.tickets.values()
    assert ticket.status is TicketStatus.OPEN


async def test_ask_goes_straight_to_an_expert(people: Chat, store: FakeStore) -> None:
    reply = await people.say("ana", "/ask How do we set up a local safety council?")
    assert "passed your question to an expert" in next(d for d in reply if d.address == "ana").text
    (question,) = store.questions.values()
    assert question.action is Action.ESCALATE
    assert "Write your question after /ask" in (await people.said_to("ana", "/ask")).text


async def test_cancel_withdraws_and_tells_the_expert(people: Chat, store: FakeStore) -> None:
    number = await ticket_for(people, "boris")
    delivered = await people.say("boris", f"/cancel {number}")
    assert any(d.address == "vesna" and "withdrawn" in d.text for d in delivered)
    assert store.tickets[number].status is TicketStatus.CANCELLED


# -- who sees what -------------------------------------------------------------------------


async def test_an_official_never_sees_another_officials_question(people: Chat) -> None:
    number = await ticket_for(people, "ana")
    assert UNMATCHED not in (await people.said_to("boris", "/tickets")).text
    for command in (f"/cancel {number}", f"/rate {number} helpful"):
        reply = await people.said_to("boris", command)
        assert f"no ticket #{number} for you" in reply.text
    assert UNMATCHED in (await people.said_to("ana", "/tickets")).text


async def test_experts_see_only_their_tickets_and_staff_see_all(
    people: Chat, store: FakeStore
) -> None:
    number = await ticket_for(people, "boris")  # goes to Vesna
    assert "no ticket" not in (await people.said_to("vesna", "/tickets")).text
    goran = await people.said_to("goran", "/tickets")
    assert UNMATCHED not in goran.text
    refused = await people.said_to("goran", f"/answer {number} I know this!")
    assert f"no ticket #{number} for you" in refused.text
    assert store.tickets[number].status is TicketStatus.ASSIGNED
    assert UNMATCHED in (await people.said_to("hana", "/tickets")).text


async def test_officials_cannot_use_expert_commands(people: Chat) -> None:
    number = await ticket_for(people, "ana")
    reply = await people.said_to("ana", f"/answer {number} answering myself")
    assert "not available to you" in reply.text


async def test_staff_can_answer_any_ticket(people: Chat, store: FakeStore) -> None:
    number = await ticket_for(people, "boris")
    delivered = await people.say("hana", f"/answer {number} Staff answer.")
    assert any(d.address == "boris" and "Staff answer." in d.text for d in delivered)
    assert store.tickets[number].status is TicketStatus.ANSWERED


# -- exactly once, and failures ------------------------------------------------------------


async def test_a_redelivered_message_is_answered_once(people: Chat, store: FakeStore) -> None:
    first = await people.say("ana", UNMATCHED, message_id="m-1")
    again = await people.say("ana", UNMATCHED, message_id="m-1")
    assert first and again == []
    assert len(store.tickets) == 1


class _Broken:
    def __init__(self, entries: Sequence[Entry]) -> None:
        raise RuntimeError("matcher exploded")


async def test_a_failure_gets_an_apology_and_is_not_retried_forever(
    store: FakeStore, clock: FakeClock
) -> None:
    chat = Chat(lambda: FakeUnitOfWork(store), clock)
    await chat.setup()
    await chat.add_person("ana", Role.OFFICIAL)

    def broken(entries: Sequence[Entry]) -> Matcher:
        raise RuntimeError("matcher exploded")

    chat.helpdesk = Helpdesk(chat.uow, KnowledgeIndex(chat.uow, lambda e, v: broken(e)), clock)
    reply = await chat.said_to("ana", "How do we set up a council?", message_id="m-9")
    assert "something went wrong on our side" in reply.text
    assert ("test", "m-9") in store.inbound
    assert store.questions == {}  # the failed transaction left nothing half-done
    assert await chat.say("ana", "How do we set up a council?", message_id="m-9") == []


async def test_language_choice(people: Chat, store: FakeStore) -> None:
    reply = await people.said_to("ana", "/language sr-latn")
    assert "srpski (latinica) (sr-Latn)" in reply.text
    person = next(p for p in store.people.values() if p.name == "Ana")
    assert person.ui_language == "sr-Latn"
    assert "don't know the language" in (await people.said_to("ana", "/language klingon")).text
    assert (
        "en, bs, hr, sr, sr-Latn, cnr, mk, sq, fr"
        in (await people.said_to("ana", "/language")).text
    )


async def test_help_depends_on_the_role(people: Chat) -> None:
    assert "/ask TEXT" in (await people.said_to("ana", "/help")).text
    assert "/decline N" in (await people.said_to("vesna", "/help")).text
    assert "helpdesk invite create" in (await people.said_to("hana", "/help")).text


# -- reactions and messages the adapter could not read ----------------------------------


async def test_a_thumbs_up_on_an_answer_presses_helpful(people: Chat, store: FakeStore) -> None:
    delivered = await people.say("ana", "How do we set up a local safety council?")
    answer_id = f"test-{people.transport.sent.index(delivered[0]) + 1}"
    thanks = await people.said_to("ana", None, reaction="👍", reply_to=answer_id)
    assert "glad it helped" in thanks.text
    (question,) = store.questions.values()
    assert question.feedback is Feedback.HELPFUL


async def test_other_reactions_and_reactions_to_other_messages_say_nothing(
    people: Chat, store: FakeStore
) -> None:
    delivered = await people.say("ana", "How do we set up a local safety council?")
    answer_id = f"test-{people.transport.sent.index(delivered[0]) + 1}"
    assert await people.say("ana", None, reaction="🎉", reply_to=answer_id) == []
    assert await people.say("ana", None, reaction="👍", reply_to="unknown-id") == []
    assert await people.say("stranger", None, reaction="👍", reply_to=answer_id) == []
    (question,) = store.questions.values()
    assert question.feedback is None


async def test_an_undecryptable_message_gets_instructions(people: Chat) -> None:
    reply = await people.said_to("ana", None, undecryptable=True)
    assert "could not read your message" in reply.text


async def test_someone_writing_too_fast_is_told_once_and_slowed(
    people: Chat, clock: FakeClock
) -> None:
    from helpdesk.services.pace import Pace

    people.helpdesk.pace = Pace(per_minute=5)
    replies = [await people.say("ana", f"/help {i}") for i in range(8)]
    told = [r for batch in replies for r in batch if "faster than I can answer" in r.text]
    assert len(told) == 1  # once, not for every message
    assert sum(1 for batch in replies if batch) == 6  # five answered, one told to wait
    assert replies[6] == [] and replies[7] == []
    clock.advance(minutes=1)
    assert await people.say("ana", "/help") != []  # a minute later, answered again
