"""After a restart the Matrix bot writes first: reminders, a reassignment, a follow-up and a
digest reach people who have not written since the bot was killed (the issue "Matrix after
a restart cannot write first"), each once, in plain and in encrypted direct chats."""

import pytest

from tests.e2e.conftest import Bot, MatrixUser, People
from tests.e2e.test_matrix import registered
from tests.e2e.test_telegram_api import until

# Each test runs on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("engine")

QUESTION = "Who decides the budget line for street lighting in rural villages?"
# A scheduler that runs once at the start and then not again within the test: what falls
# due while it runs is sent only by the next process, after the kill.
ASLEEP = "1h"


def restart(bot: Bot, **env: str) -> None:
    """``kill -9``, then start again with the same store, database and some settings changed."""
    bot.kill()
    bot.env.update({f"HELPDESK_{name.upper()}": value for name, value in env.items()})
    bot.start()


def count(messages: list[str], words: str) -> int:
    return sum(1 for body in messages if words in body)


async def test_after_a_kill_the_bot_writes_first_to_people_silent_since(
    people: People, bot: Bot
) -> None:
    bot.env.update(
        {
            "HELPDESK_EXPERT_REMINDER_AFTER": "3s",
            # Long enough for the next expert to answer, across a restart, before the
            # ticket would move on from him too.
            "HELPDESK_REASSIGN_AFTER": "20s",
            "HELPDESK_FOLLOWUP_AFTER": "5s",
            "HELPDESK_DIGEST_EVERY": "10s",
            "HELPDESK_QUIET_HOURS": "off",
            "HELPDESK_SCHEDULER_INTERVAL": ASLEEP,
        }
    )
    bot.start()
    vesna = await registered(people, bot, "vesna", "expert", "--languages", "en")
    ana = await registered(people, bot, "ana", "official", "--languages", "en")
    sara = await registered(people, bot, "sara", "staff", "--languages", "en")
    seen: dict[str, list[str]] = {}

    def saw(user: MatrixUser, body: str) -> None:
        seen.setdefault(user.user_id, []).append(body)

    await ana.say(f"/ask {QUESTION}")
    await ana.expect("passed your question to an expert (ticket #1)")
    saw(vesna, (await vesna.expect("New question for you: ticket #1")).body)
    # Registered after the ticket was assigned, so that it can only move to him; his chat
    # is encrypted: the restarted bot must know its members to encrypt for them.
    goran = await registered(people, bot, "goran", "expert", "--languages", "en", encrypted=True)

    # Nobody writes after this restart; the scheduler, asleep until now, finds the
    # reminder and the reassignment due.
    restart(bot, scheduler_interval="1s")
    saw(vesna, (await vesna.expect("Reminder: ticket #1")).body)
    moved = await goran.expect("New question for you: ticket #1")
    saw(goran, moved.body)
    assert moved.decrypted
    saw(vesna, (await vesna.expect("passed to another expert")).body)

    # The answer and the rating, with the scheduler asleep again: the follow-up falls due
    # while this process runs and is sent only after the next kill.
    restart(bot, scheduler_interval=ASLEEP)
    await goran.say("The municipal council adopts it.", reply_to=moved.event_id)
    await goran.expect("was sent to the official")
    answer = await ana.expect("An expert answered your question (ticket #1)")
    await ana.react(answer.event_id, "👍")
    await ana.expect("Ticket #1 is now closed")
    unsent = "select count(*) from outbox where delivered_at is null"
    await until(lambda: bot.sql(unsent) == [(0,)], within=30)
    for user in (vesna, goran, ana, sara):  # what came so far, so that what follows is new
        for message in await user.messages(settle=2):
            saw(user, message.body)

    # A digest period longer than the test for the last process: the digest already
    # planned is the last one, so the counts below are final.
    restart(bot, scheduler_interval="1s", digest_every="1h")
    saw(ana, (await ana.expect("Did it help")).body)
    saw(sara, (await sara.expect("Helpdesk digest", within=60)).body)
    await until(lambda: bot.sql(unsent) == [(0,)], within=30)
    for user in (vesna, goran, ana, sara):
        for message in await user.messages(settle=3):
            saw(user, message.body)

    assert count(seen[vesna.user_id], "New question for you: ticket #1") == 1
    assert count(seen[vesna.user_id], "Reminder: ticket #1") == 1
    assert count(seen[vesna.user_id], "passed to another expert") == 1
    assert count(seen[goran.user_id], "New question for you: ticket #1") == 1
    assert count(seen[ana.user_id], "Did it help") == 1
    digests = bot.sql(
        "select count(*) from scheduled_actions where kind = 'digest' and outcome = 'sent'"
    )
    assert count(seen[sara.user_id], "Helpdesk digest") == digests[0][0] >= 1
    # Every reply went out at its first attempt (counted when delivered): none waited for
    # a room the restarted bot did not know.
    assert bot.sql("select max(attempts), count(last_error) from outbox") == [(1, 0)]
    history = [k for (k,) in bot.sql("select kind from ticket_events order by id")]
    assert history[:4] == ["created", "assigned", "reminded", "reassigned"]
    assert bot.sql("select status, rating from tickets") == [("closed", "helpful")]
