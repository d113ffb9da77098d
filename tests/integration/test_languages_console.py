"""A person switching /language through every catalogue sees the bot in that language:
commands' replies, buttons and messages (the console as the test transport)."""

import io

import pytest

from helpdesk.bootstrap import App
from helpdesk.domain.languages import SUPPORTED_LANGUAGES
from helpdesk.i18n import LanguageName, Msg, Translator
from helpdesk.runner import open_console
from helpdesk.services.knowledge import import_entries
from tests.fakes import FakeClock
from tests.integration.test_console_loop import Console
from tests.support import ENTRIES

T = Translator()
# Where the local safety council entry's practice is from, as each reader reads it: the
# city as written, the country in their language (and script).
MONTENEGRO = {
    "en": "Montenegro",
    "bs": "Crna Gora",
    "hr": "Crna Gora",
    "cnr": "Crna Gora",
    "sr-Latn": "Crna Gora",
    "sr": "Црна Гора",
    "mk": "Црна Гора",
    "sq": "Mal i Zi",
    "fr": "Monténégro",
}


@pytest.fixture
async def console(app: App, clock: FakeClock) -> Console:
    await import_entries(app.uow, ENTRIES, clock)
    out = io.StringIO()
    return Console(await open_console(app, out=out), out)


@pytest.mark.parametrize("code", SUPPORTED_LANGUAGES)
async def test_every_language_end_to_end(console: Console, code: str) -> None:
    said = T.translate(Msg.LANGUAGE_SET, code, {"language": LanguageName(code)})
    assert said in await console.type(f"/language {code}")
    help_text = T.translate(Msg.HELP_OFFICIAL, code, {})
    assert help_text in await console.type("/help")
    printed = await console.type("How do we set up a local safety council?")
    for key in (Msg.ANSWER_DID_IT_HELP, Msg.BUTTON_HELPFUL, Msg.BUTTON_ASK_EXPERT):
        assert T.translate(key, code, {}) in printed, (code, key)
    assert f"Danilovgrad, {MONTENEGRO[code]}." in printed
    printed = await console.type("/frobnicate")
    assert T.translate(Msg.COMMAND_UNKNOWN, code, {"command": "frobnicate"}) in printed
    if code != "en":  # really translated, not English through a fallback
        assert help_text != T.translate(Msg.HELP_OFFICIAL, "en", {})
        assert T.translate(Msg.BUTTON_HELPFUL, code, {}) != "Helpful"


def test_every_supported_language_has_a_catalogue() -> None:
    assert set(T.available()) == set(SUPPORTED_LANGUAGES)
