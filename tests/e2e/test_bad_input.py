"""The bad-input corpus (tests/data/bad_input.jsonl) through the real adapters: the bot
on the Telegram Bot API stand-in and on Synapse. Every message gets a reply, nothing
crashes, Telegram accepts every reply's HTML, and the log at INFO holds neither the
token nor anything the official wrote."""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bad_input import BadInput, load_bad_input
from tests.e2e.conftest import Bot, People
from tests.e2e.test_matrix import registered
from tests.e2e.test_telegram import TOKEN, TelegramBot
from tests.servers.postgres import ENGINES
from tests.servers.telegram import BotApiServer, SentMessage

# Each test runs on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("engine")

# Synapse refuses events over 64 KiB; emoji take four bytes each.
MATRIX_MAX_CHARS = 12_000
# Synapse spends far more CPU per event than the bot: on Matrix the corpus is shared out
# between the engines (SQLite every other message, PostgreSQL the rest; all kinds are
# interleaved, so each run has each kind) and each run has every huge one. The whole
# corpus goes through the console and Telegram on each engine.
# Distinctive texts from the corpus that must never reach the log.
SECRETS_IN_MESSAGES = ("DROP TABLE", "<script>", "safety council", "Како да", "javascript:")


def assert_log_is_clean(log: str) -> None:
    assert "Traceback" not in log, log[-3000:]
    assert "failed to handle" not in log and "delivery of outbox item" not in log, log[-3000:]
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    for text in SECRETS_IN_MESSAGES:
        assert text not in log, text


def unanswerable(corpus: list[BadInput], replies: int) -> str:
    return f"{replies} replies to {len(corpus)} messages"


@pytest.fixture
def api() -> Iterator[BotApiServer]:
    with BotApiServer(TOKEN) as server:
        yield server


async def test_every_bad_message_through_telegram(api: BotApiServer, tmp_path: Path) -> None:
    tbot = TelegramBot(api, tmp_path / "bot")
    tbot.env["HELPDESK_MAX_MESSAGES_PER_MINUTE"] = "100000"
    try:
        tbot.start()
        ana = await tbot.register("ana")
        corpus = load_bad_input()
        for item in corpus:
            api.send(ana, item.text)
        received: list[SentMessage] = []
        deadline = time.monotonic() + 180
        while len(received) < len(corpus) and time.monotonic() < deadline:
            received += await api.settle(ana.id, 1.0)
        assert len(received) >= len(corpus), unanswerable(corpus, len(received))
        assert all(m.text.strip() for m in received)
        assert api.pending_updates() == 0
    finally:
        tbot.stop()
    assert_log_is_clean(tbot.log.read_text(errors="replace"))


async def test_every_bad_message_through_matrix(people: People, bot: Bot, engine: str) -> None:
    bot.env["HELPDESK_MAX_MESSAGES_PER_MINUTE"] = "100000"
    bot.start()
    ana = await registered(people, bot, "ana")
    share, shares = ENGINES.index(engine), len(ENGINES)
    corpus = [
        item
        for n, item in enumerate(load_bad_input(MATRIX_MAX_CHARS))
        if item.text and (n % shares == share or item.kind.startswith("huge"))
    ]
    assert {i.kind for i in corpus} == {i.kind for i in load_bad_input() if i.text}
    for item in corpus:
        await ana.say(item.text)
    received = []
    deadline = time.monotonic() + 180
    while len(received) < len(corpus) and time.monotonic() < deadline:
        received += await ana.messages(settle=1.0)
    assert len(received) >= len(corpus), unanswerable(corpus, len(received))
    await asyncio.sleep(0)
    bot.stop()
    assert_log_is_clean(bot.log.read_text(errors="replace"))
