"""An official who has chosen no language asks in each of the nine, through the console:
the answer comes in the language of the question (titles, answer, buttons), from the
knowledge base as shipped in knowledge/."""

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpdesk.bootstrap import App, bootstrap
from helpdesk.i18n import Msg, Translator
from helpdesk.knowledge_files import read_knowledge
from helpdesk.runner import open_console
from helpdesk.services.knowledge import import_entries
from helpdesk.settings import Settings
from tests.fakes import FakeClock
from tests.integration.test_console_loop import Console

ROOT = Path(__file__).resolve().parents[2]
T = Translator()
ENTRY = "lsc-setup"

# How an official in each country might ask, in its own words (not the entry's phrasings).
QUESTIONS = {
    "en": "How do we set up a local safety council in our town?",
    "bs": "Kako osnovati lokalno vijeće za sigurnost u našoj općini i ko bi trebao biti u njemu?",
    "hr": "Kako osnovati lokalno vijeće za sigurnost u našoj općini i tko bi trebao biti član?",
    "sr": "Како да оснујемо локални савет за безбедност у нашој општини?",
    "sr-Latn": "Kako da osnujemo lokalni savet za bezbednost u našoj opštini?",
    "cnr": "Kako da osnujemo lokalni savjet za bezbjednost u našoj opštini, đe da počnemo?",
    "mk": "Како да формираме Локален совет за безбедност во нашата општина?",
    "sq": "Si të ngremë një Këshill Vendor të Sigurisë në bashkinë tonë?",
    "fr": "Comment mettre en place un conseil local de sécurité dans notre commune ?",
}


@pytest.fixture
async def app(database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(
        database_url=database_url, knowledge_dir=tmp_path / "none", semantic_matching=False
    )
    running = await bootstrap(settings, clock=clock)
    yield running
    await running.close()


@pytest.fixture
async def console(app: App, clock: FakeClock) -> Console:
    files = read_knowledge([ROOT / "knowledge"])
    assert files.ok
    await import_entries(app.uow, files.entries, clock)
    out = io.StringIO()
    return Console(await open_console(app, out=out), out)


@pytest.mark.parametrize("language", QUESTIONS)
async def test_the_answer_comes_in_the_language_of_the_question(
    console: Console, language: str
) -> None:
    [entry] = list(read_knowledge([ROOT / "knowledge" / f"{ENTRY}.md"]).entries)
    printed = await console.type(QUESTIONS[language])
    shown = entry.in_language([language])
    assert shown.lang == language
    assert shown.title in printed, (language, printed[:300])
    assert shown.body.split("\n")[0][:80] in printed
    for key in (Msg.ANSWER_DID_IT_HELP, Msg.BUTTON_HELPFUL, Msg.BUTTON_ASK_EXPERT):
        assert T.translate(key, language, {}) in printed, (language, key)
    assert T.translate(Msg.ANSWER_OTHER_LANGUAGE, language, {"language": "x"})[:20] not in printed
    # What they type next, a number or a command, is answered in the same language.
    assert T.translate(Msg.FEEDBACK_HELPFUL, language, {}) in await console.type("1")
