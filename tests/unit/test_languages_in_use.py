"""Which language a person gets, and entries in several languages."""

import dataclasses
from pathlib import Path

import pytest

from helpdesk.domain.knowledge import Entry, Translation
from helpdesk.domain.people import Person, Role
from helpdesk.knowledge_files import dump_entry, read_knowledge
from helpdesk.services.messenger import language_for
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


def test_the_language_a_message_is_written_in_comes_before_everything_but_a_choice() -> None:
    assert language_for(person("sr-Latn"), "en", "sr") == "sr"
    assert language_for(person("en", chosen="sr-Latn"), None, "sr") == "sr-Latn"
    last = Person("Ana", Role.OFFICIAL, languages=("en",), last_language="sq")
    assert language_for(last, "en") == "sq"  # a command says nothing: the last one holds
    assert language_for(last, "en", "mk") == "mk"


@pytest.mark.parametrize(
    ("languages", "question", "language"),
    [
        (("sr-Latn",), "Како да оснујемо локални савет за безбедност?", "sr"),
        (("en",), "Како да основаме локален совет за безбедност?", "mk"),
        (("en",), "Kako da osnujemo lokalni savet za bezbednost u opštini?", "sr-Latn"),
        (("hr",), "Kako osnovati lokalno vijeće za sigurnost u općini?", "hr"),
        (("en",), "Si të krijojmë një Këshill Vendor të Sigurisë?", "sq"),
        (("mk",), "Comment créer un conseil local de sécurité ?", "fr"),
    ],
)
async def test_replies_follow_the_language_of_the_question(
    chat: Chat, languages: tuple[str, ...], question: str, language: str
) -> None:
    await chat.add_person("ana", Role.OFFICIAL, languages=languages)
    reply = await chat.said_to("ana", question)
    assert reply.language == language
    # A command or a number says nothing of a language: the one last written holds.
    assert (await chat.said_to("ana", "/help")).language == language


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
    store.entries["lsc-setup"] = dataclasses.replace(lsc, translations=(SERBIAN,))
    store.entry_changes += 1
    await chat.add_person("milica", Role.OFFICIAL, languages=("sr",))
    await chat.add_person("arta", Role.OFFICIAL, languages=("sq",))
    answer = await chat.said_to("milica", "Како основати локални савет за безбедност?")
    assert answer.text.startswith("Оснивање локалног савета за безбедност")
    assert answer.language == "sr"
    assert "not written in your language" not in answer.text
    answer = await chat.said_to("arta", "Si të krijojmë një Këshill Vendor të Sigurisë?")
    assert answer.text.startswith("Setting up a Local Safety Council")
    # Test transports read English; the reply went out in Albanian, with the note.
    assert answer.language == "sq"
    assert "This answer is not written in your language yet; here it is in" in answer.text
