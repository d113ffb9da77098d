import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from helpdesk.domain.actions import DeclineTicket, GiveFeedback, PickSuggestion
from helpdesk.domain.questions import Feedback
from helpdesk.i18n import (
    Button,
    LanguageName,
    Msg,
    Place,
    Quote,
    QuoteStyle,
    Reply,
    Text,
    Translator,
    country_name,
    language_name,
)
from helpdesk.i18n.translator import LOCALES

CATALOGUES = sorted(LOCALES.glob("*.po"))
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def messages(path: Path) -> dict[str, list[str]]:
    """key → every form of its translation (one, or one per plural form)."""
    with path.open("rb") as po:
        catalog = read_po(po)
    found: dict[str, list[str]] = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if message.pluralizable else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found[str(key)] = [str(s) for s in strings]
    return found


def test_english_is_there() -> None:
    assert LOCALES / "en.po" in CATALOGUES


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.stem)
def test_every_key_is_in_every_catalogue_and_nothing_else(path: Path) -> None:
    found = messages(path)
    assert set(found) == {m.value for m in Msg}
    assert all(all(s.strip() for s in forms) for forms in found.values()), "empty translation"


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.stem)
def test_placeholders_match_english(path: Path) -> None:
    english = messages(LOCALES / "en.po")
    for key, forms in messages(path).items():
        wanted = set(PLACEHOLDER.findall(english[key][0]))
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) == wanted, (path.stem, key, form)


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.stem)
def test_every_string_closes_on_its_line(path: Path) -> None:
    """Babel reads a string broken by a raw line break without complaint, and drops the
    break: the "\\n" must be written as such."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith(('"', "msgid", "msgstr")):
            assert line.endswith('"'), f"{path.name}:{number}: {line}"


def test_plural_forms() -> None:
    t = Translator()
    one = t.translate(Msg.TICKETS_OWN, "en", {"count": 1, "lines": ""})
    many = t.translate(Msg.TICKETS_OWN, "en", {"count": 3, "lines": ""})
    assert "1 ticket:" in one
    assert "3 tickets:" in many


def test_unknown_language_falls_back_to_english() -> None:
    t = Translator()
    assert t.translate(Msg.BUTTON_HELPFUL, "xx", {}) == "Helpful"
    # A regional variant without a catalogue of its own falls back to its language.
    assert t.translate(Msg.BUTTON_HELPFUL, "fr-CA", {}) == t.translate(Msg.BUTTON_HELPFUL, "fr", {})
    assert t.translate(Msg.BUTTON_HELPFUL, "fr", {}) != "Helpful"
    assert t.translate(Msg.BUTTON_HELPFUL, None, {}) == "Helpful"


def test_user_text_is_never_interpreted_as_a_template() -> None:
    t = Translator()
    reply = Reply.say(
        Msg.TICKETS_LINE, ticket=3, status=Text(Msg.STATUS_OPEN), text=Quote("{count} {0} %s <b>")
    )
    assert t.render(reply, "en").text == "#3 (waiting for an expert): {count} {0} %s <b>"


def test_render_joins_parts_and_translates_buttons() -> None:
    reply = Reply(
        (Quote("Title", QuoteStyle.TITLE), Text(Msg.ANSWER_DID_IT_HELP)),
        buttons=(
            Button(Text(Msg.BUTTON_HELPFUL), GiveFeedback(1, Feedback.HELPFUL)),
            Button(Quote("An entry"), PickSuggestion(1, 1)),
        ),
    )
    rendered = Translator().render(reply, "en")
    assert rendered.text == "Title\n\nDid this answer your question?"
    assert rendered.buttons == (("Helpful", "/feedback 1 helpful"), ("An entry", "/pick 1 1"))


def test_replies_survive_the_outbox_as_json() -> None:
    reply = Reply(
        (
            Text(
                Msg.EXPERT_NEW_TICKET,
                {"ticket": 4, "place": Text(Msg.PLACE_UNKNOWN), "language": LanguageName("mk")},
            ),
            Quote("Како да ги вклучиме младите?"),
            Text(
                Msg.TICKETS_OWN,
                {"count": 2, "lines": (Text(Msg.STATUS_OPEN), Text(Msg.STATUS_CLOSED))},
            ),
            Text(Msg.ANSWER_PRACTICE_OF, {"place": Place("Kumanovo", "North Macedonia")}),
            Text(Msg.OFFICIAL_ANSWER_FROM, {"name": "Vesna", "place": Place(None, "BA")}),
        ),
        buttons=(Button(Text(Msg.BUTTON_DECLINE), DeclineTicket(4)),),
        ref="ticket:4",
    )
    assert Reply.from_json(reply.to_json()) == reply


def test_language_names_are_in_the_language_itself() -> None:
    assert language_name("sr") == "српски"
    assert language_name("mk") == "македонски"
    assert language_name("sq") == "shqip"
    assert language_name("cnr") == "crnogorski"
    assert language_name("zz") == "zz"
    rendered = Translator().translate(Msg.LANGUAGE_SET, "en", {"language": LanguageName("fr")})
    assert "français (fr)" in rendered


def test_no_underscore_function_in_builtins() -> None:
    import builtins

    assert not hasattr(builtins, "_")


def test_every_sentence_in_the_services_goes_through_a_key() -> None:
    """User-facing sentences are keys, not literals: no English sentence is built in code."""
    sources = Path(__file__).resolve().parents[2] / "helpdesk" / "services"
    sentence = re.compile(r"""["'][A-Z][a-z]+( [a-z]+){3,}[.!?]["']""")
    for path in sources.glob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("#", "log.", '"""')) or "log." in stripped:
                continue
            assert not sentence.search(line), f"{path.name}:{number}: {stripped}"


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("en", "Bosnia and Herzegovina"),  # as the entry writes it, not Babel's "&"
        ("bs", "Bosna i Hercegovina"),
        ("cnr", "Bosna i Hercegovina"),  # Babel has no Montenegrin: the closest language's
        ("sr", "Босна и Херцеговина"),
        ("sr-Latn", "Bosna i Hercegovina"),
        ("mk", "Босна и Херцеговина"),
        ("sq", "Bosnjë-Hercegovinë"),
        ("fr", "Bosnie-Herzégovine"),
        (None, "Bosnia and Herzegovina"),
    ],
)
def test_a_country_is_named_in_the_readers_language(language: str | None, shown: str) -> None:
    assert country_name("Bosnia and Herzegovina", language) == shown
    written = "bosnia & herzegovina"  # an English reader gets it as written
    assert country_name(written, language) == (written if language in ("en", None) else shown)


def test_a_country_written_otherwise_is_recognised_or_left_as_written() -> None:
    assert country_name("Bosna i Hercegovina", "sq") == "Bosnjë-Hercegovinë"
    assert country_name("Crna Gora", "en") == "Montenegro"
    assert country_name("MK", "sr-Latn") == "Severna Makedonija"
    assert country_name("Severna Makedonija", "bs") == "Sjeverna Makedonija"  # ijekavian
    assert country_name("Atlantis", "bs") == "Atlantis"
    assert country_name("BiH", "sq") == "BiH"


def test_a_place_shows_its_city_as_written_and_its_country_translated() -> None:
    practice = Text(Msg.ANSWER_PRACTICE_OF, {"place": Place("Kumanovo", "North Macedonia")})
    assert Translator().part(practice, "sq") == "Praktikë e mirë nga Kumanovo, Maqedonia e Veriut."
    assert Translator().part(practice, "en") == "Good practice from Kumanovo, North Macedonia."
    only_country = Text(Msg.ANSWER_PRACTICE_OF, {"place": Place(None, "Albania")})
    assert Translator().part(only_country, "fr").endswith("Albanie.")
