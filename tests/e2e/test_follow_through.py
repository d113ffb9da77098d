"""The ticket's life over time through a real adapter, with durations of seconds: the
expert is reminded, the ticket moves on, the official is followed up; the bot is killed
and restarted in the middle, and each message still arrives once."""

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_telegram import TOKEN, TelegramBot, buttons
from tests.e2e.test_telegram_api import until
from tests.servers.telegram import BotApiServer, SentMessage

# Each test runs on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("engine")

QUESTION = "Who decides the budget line for street lighting in rural villages?"


@pytest.fixture
def api() -> Iterator[BotApiServer]:
    with BotApiServer(TOKEN) as server:
        yield server


def only(messages: list[SentMessage], words: str) -> list[SentMessage]:
    return [m for m in messages if words in m.text]


async def test_reminder_reassignment_and_follow_up_arrive_once_across_a_kill(
    api: BotApiServer, tmp_path: Path
) -> None:
    bot = TelegramBot(api, tmp_path / "bot")
    bot.env.update(
        {
            "HELPDESK_EXPERT_REMINDER_AFTER": "3s",
            "HELPDESK_REASSIGN_AFTER": "8s",
            "HELPDESK_FOLLOWUP_AFTER": "3s",
            "HELPDESK_QUIET_HOURS": "off",
            "HELPDESK_SCHEDULER_INTERVAL": "1s",
        }
    )
    try:
        bot.start()
        vesna = await bot.register("vesna", "expert", "--languages", "en")
        goran = await bot.register("goran", "expert", "--languages", "en")
        ana = await bot.register("ana", "official", "--languages", "en")
        api.send(ana, QUESTION)
        await api.expect(ana.id, "passed your question to an expert (ticket #1)")
        first, second = vesna, goran
        seen: dict[int, list[SentMessage]] = {vesna.id: [], goran.id: [], ana.id: []}
        notice = None
        for _ in range(2):
            found = await api.settle(vesna.id, 0) + await api.settle(goran.id, 0)
            notice = next((m for m in found if "New question for you" in m.text), notice)
        assert notice is not None
        if notice.chat_id == goran.id:
            first, second = goran, vesna

        reminder = await api.expect(first.id, "Reminder: ticket #1", within=20)
        seen[first.id].append(reminder)
        # The kill falls between the reminder and the reassignment, not inside the
        # reminder's send: a message Telegram took but the bot had not yet marked as sent
        # is sent again after a restart (no idempotent send; docs/operations.md, "Scaling"). Under
        # load that window is wide enough to hit.
        unsent = "select count(*) from outbox where delivered_at is null"
        await until(lambda: bot.sql(unsent) == [(0,)], within=10)
        bot.kill()
        await asyncio.sleep(1)
        bot.start()
        moved = await api.expect(second.id, "New question for you: ticket #1", within=30)
        seen[second.id].append(moved)
        seen[first.id].append(await api.expect(first.id, "passed to another expert", within=20))

        api.send(second, "The municipal council adopts it.", reply_to=moved.message_id)
        seen[ana.id].append(await api.expect(ana.id, "An expert answered your question"))
        follow = await api.expect(ana.id, "Did it help", within=20)
        seen[ana.id].append(follow)
        api.press(ana, follow.message_id, buttons(follow)["Solved"])
        prompt = await api.expect(ana.id, "from 1 (poor) to 5 (excellent)")
        api.press(ana, prompt.message_id, buttons(prompt)["5"])
        await api.expect(ana.id, "5 of 5")

        # Long enough for any repeat to show up.
        for person in (first, second, ana):
            seen[person.id] += await api.settle(person.id, 4 if person is first else 0)
        assert len(only(seen[first.id], "Reminder: ticket #1")) == 1
        assert len(only(seen[first.id], "passed to another expert")) == 1
        assert len(only(seen[second.id], "New question for you: ticket #1")) == 1
        assert len(only(seen[ana.id], "Did it help")) == 1
        history = [k for (k,) in bot.sql("select kind from ticket_events order by id")]
        assert history[:4] == ["created", "assigned", "reminded", "reassigned"]
        assert bot.sql("select status, score from tickets") == [("closed", 5)]
        assert re.search(r"scheduled actions: \d+ ran", bot.log.read_text()) is not None
    finally:
        bot.stop()
