"""Which language a person gets, and entries in several languages."""

from pathlib import Path

from helpdesk.domain.knowledge import Entry, Translation
from helpdesk.domain.people import Person, Role
from helpdesk.knowledge_files import dump_entry, read_knowledge
from helpdesk.services.turn import language_for
from tests.fakes import FakeStore
from tests.support import Chat

SERBIAN = Translation(
    "sr", "Оснивање локалног савета за безбедност", "Мапирајте претње, затим договорите правила."
)


def person(*languages: str, chosen: str | None = None) -> Person:
    return Person("Ana", Role.OFFICIAL, languages=languages, ui_language=chosen)


def test_the_order_of_preference() -> None:
    assert language_for(person("mk"), "sq") == "sq"  # the chat app's language first
    assert language_for(person("mk")) == "mk"  # then the invitation's
    assert language_for(person("mk", chosen="fr"), "sq") == "fr"  # a choice beats both
    assert language_for(person()) is None  # then the catalogues' default, English


def test_cyrillic_is_answered_in_cyrillic_unless_the_person_chose() -> None:
    question = "Како да оснујемо локални савет за безбедност?"
    assert language_for(person("sr-Latn"), None, question) == "sr"
    assert language_for(person("en"), None, "Како да основаме локален совет?") == "mk"
    assert language_for(person("en"), None, question) == "sr"
    assert language_for(person("mk"), None, question) == "mk"
    assert language_for(person("sr-Latn", chosen="sr-Latn"), None, question) == "sr-Latn"
    assert language_for(person("sr-Latn"), None, "Kako da osnujemo savet?") == "sr-Latn"


def test_a_knowledge_file_with_other_languages_round_trips(tmp_path: Path) -> None:
    entry = Entry(
        id="lsc",
        title="Setting up a Local Safety Council",
        questions=("How do we set up a local safety council?",),
        body="Map the threats, then agree the rules.",
        translations=(
            SERBIAN,
            Translation("mk", "Setting up a Local Safety Council", "Мапирајте."),
        ),
    )
    (tmp_path / "lsc.md").write_text(dump_entry(entry), encoding="utf-8")
    text = (tmp_path / "lsc.md").read_text(encoding="utf-8")
    assert "title_sr: Оснивање локалног савета за безбедност" in text
    assert "<!-- lang: sr -->" in text and "<!-- lang: mk -->" in text
    files = read_knowledge([tmp_path])
    assert files.ok and not files.warnings
    assert files.entries == [entry]
    assert entry.in_language(["sr-Latn", "sr"]) == SERBIAN
    assert entry.in_language(["fr"]).lang == "en"


async def test_an_answer_comes_in_the_readers_language_or_says_it_does_not(
    chat: Chat, store: FakeStore
) -> None:
    lsc = store.entries["lsc-setup"]
    store.entries["lsc-setup"] = Entry(**{**lsc.__dict__, "translations": (SERBIAN,)})
    store.entry_changes += 1
    await chat.add_person("milica", Role.OFFICIAL, languages=("sr",))
    await chat.add_person("arta", Role.OFFICIAL, languages=("sq",))
    answer = await chat.said_to("milica", "Kako osnovati lokalni savjet za bezbjednost?")
    assert answer.text.startswith("Оснивање локалног савета за безбедност")
    assert answer.language == "sr"
    assert "not written in your language" not in answer.text
    answer = await chat.said_to("arta", "Si të krijojmë një Këshill Vendor të Sigurisë?")
    assert answer.text.startswith("Setting up a Local Safety Council")
    # Test transports read English; the reply went out in Albanian, with the note.
    assert answer.language == "sq"
    assert "This answer is not written in your language yet; here it is in" in answer.text
