"""The Telegram adapter over real HTTP: ``python bot.py`` with python-telegram-bot's own
network stack, against the Bot API stand-in on loopback. The issue's scenarios, one by one."""

import asyncio
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from helpdesk.domain.knowledge import Entry
from helpdesk.knowledge_files import write_entries
from tests.e2e.conftest import BotProcess
from tests.servers.net import free_port
from tests.servers.telegram import BotApiServer, SentMessage, SimUser, utf16_len

# Each test runs on SQLite and on PostgreSQL (tests/conftest.py), but for those marked
# one_engine: about the platform, not the database.
pytestmark = pytest.mark.usefixtures("engine")

UNMATCHED = "Who decides the budget line for street lighting in rural villages?"
TOKEN = "123456:" + "A" * 35
# The question: 3,998 characters (within the 4,000 a question may have), but 7,963
# UTF-16 code units, which is what Telegram counts.
EMOJI_QUESTION = "abcdefghijklmnopqrstuvw" + "😀" * 3970


class TelegramBot(BotProcess):
    def __init__(
        self, api: BotApiServer, base: Path, settings: dict[str, str] | None = None, **env: str
    ) -> None:
        """``env`` are Telegram settings (webhook_url=...); ``settings`` any others."""
        self.api = api
        super().__init__(
            base,
            {
                "HELPDESK_TELEGRAM_TOKEN": TOKEN,
                "HELPDESK_TELEGRAM_BASE_URL": api.url,
                **{f"HELPDESK_TELEGRAM_{k.upper()}": v for k, v in env.items()},
                **(settings or {}),
            },
        )

    async def register(self, name: str, role: str = "official", *extra: str) -> SimUser:
        user = self.api.user(name.title())
        out = await self.cli_in_process(
            "invite", "create", "--role", role, "--name", name.title(), *extra
        )
        link = re.search(r"https://t\.me/(\w+)\?start=([\w-]+)", out)
        assert link is not None, out
        # Opening the link makes the app send /start with the code.
        self.api.send(user, f"/start {link[2]}")
        await self.api.expect(user.id, f"Welcome, {name.title()}")
        return user


@pytest.fixture
def api() -> Iterator[BotApiServer]:
    with BotApiServer(TOKEN) as server:
        yield server


@pytest.fixture
def tbot(api: BotApiServer, tmp_path: Path, engine: str) -> Iterator[TelegramBot]:
    running = TelegramBot(api, tmp_path / "bot")
    yield running
    running.stop()


def buttons(message: SentMessage) -> dict[str, str]:
    keyboard = (message.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in keyboard for b in row}


def ticket_number(message: SentMessage) -> int:
    found = re.search(r"ticket #(\d+)", message.text)
    assert found is not None, message.text
    return int(found[1])


async def delivered(bot: TelegramBot, within: float = 30.0) -> list[tuple[object, ...]]:
    """(attempts, last_error) of every outbox item, once all are delivered."""
    deadline = time.monotonic() + within
    while bot.sql("select count(*) from outbox where delivered_at is null") != [(0,)]:
        waiting = bot.sql("select attempts, last_error from outbox where delivered_at is null")
        assert time.monotonic() < deadline, f"not delivered: {waiting}"
        await asyncio.sleep(0.2)
    return bot.sql("select attempts, last_error from outbox order by id")


def sent_messages(api: BotApiServer, *people: SimUser) -> int:
    return sum(len(api.messages(person.id)) for person in people)


async def test_registration_by_deep_link_and_the_command_menu(
    api: BotApiServer, tbot: TelegramBot
) -> None:
    tbot.start()
    await tbot.register("ana")
    assert [c["command"] for c in api.commands({"type": "all_private_chats"})] == [
        "help",
        "ask",
        "tickets",
        "language",
        "cancel",
        "answer",
    ]


async def test_an_answer_with_its_keyboard_and_feedback(
    api: BotApiServer, tbot: TelegramBot
) -> None:
    tbot.start()
    ana = await tbot.register("ana")
    api.send(ana, "How do we set up a local safety council?")
    answer = await api.expect(ana.id, "Setting up a Local Safety Council")
    assert "Good practice from Danilovgrad, Montenegro." in answer.text
    assert "<b>Setting up a Local Safety Council</b>" in answer.html
    keys = buttons(answer)
    assert set(keys) == {"Helpful", "Not helpful", "Ask an expert", "Connect me with Danilovgrad"}
    assert all(len(data.encode()) <= 64 for data in keys.values())
    api.press(ana, answer.message_id, keys["Helpful"])
    await api.expect(ana.id, "glad it helped")
    assert tbot.sql("select feedback from questions") == [("helpful",)]
    assert api.rejected == []


async def test_a_suggestion_is_pressed(api: BotApiServer, tbot: TelegramBot) -> None:
    tbot.start()
    ana = await tbot.register("ana")
    api.send(ana, "young council")
    offer = await api.expect(ana.id, "Which one fits best?")
    choice = next(data for text, data in buttons(offer).items() if "Engaging young" in text)
    api.press(ana, offer.message_id, choice)
    await api.expect(ana.id, "Work through youth-led groups")


async def test_escalation_to_an_expert_who_answers_by_replying(
    api: BotApiServer, tbot: TelegramBot
) -> None:
    tbot.start()
    vesna = await tbot.register("vesna", "expert", "--languages", "en,bs")
    ana = await tbot.register("ana", "official", "--languages", "en")
    api.send(ana, UNMATCHED)
    await api.expect(ana.id, "passed your question to an expert (ticket #1)")
    notice = await api.expect(vesna.id, "New question for you: ticket #1")
    assert UNMATCHED in notice.text
    assert buttons(notice) == {"I can't take it": "/decline 1"}
    api.send(vesna, "The municipal council adopts it.", reply_to=notice.message_id)
    await api.expect(vesna.id, "was sent to the official")
    answer = await api.expect(ana.id, "An expert answered your question (ticket #1)")
    assert "The municipal council adopts it." in answer.text
    api.press(ana, answer.message_id, buttons(answer)["Helpful"])
    await api.expect(ana.id, "Ticket #1 is now closed")
    assert tbot.sql("select status, rating from tickets") == [("closed", "helpful")]


async def test_a_stranger_and_a_group_are_refused(api: BotApiServer, tbot: TelegramBot) -> None:
    tbot.start()
    stranger = api.user("Stranger")
    api.send(stranger, "How do we set up a local safety council?")
    reply = await api.expect(stranger.id, "invitation only")
    assert "Setting up" not in reply.text
    group = {"id": -100123, "type": "group", "title": "Municipal staff"}
    api.send(stranger, "/help", chat=group)
    await api.expect(group["id"], "I only answer in direct chats")
    deadline = time.monotonic() + 30  # the bot leaves after it said so
    while api.calls["leaveChat"] == 0:
        assert time.monotonic() < deadline, "the bot did not leave the group"
        await asyncio.sleep(0.05)


async def test_markup_cyrillic_and_odd_input_get_clear_replies(
    api: BotApiServer, tbot: TelegramBot
) -> None:
    tbot.start()
    ana = await tbot.register("ana")
    api.send(ana, "<b>Како</b> да <script>formираме</script> локален совет за безбедност & мир?")
    await api.expect(ana.id, "")
    api.send_non_text(ana)
    await api.expect(ana.id, "Можам да читам само текстуални пораки")  # her last language
    api.send(ana, "/frobnicate")
    await api.expect(ana.id, "/help")
    assert api.rejected == []


async def test_a_flood_limit_is_waited_out_and_nothing_is_lost(
    api: BotApiServer, tbot: TelegramBot
) -> None:
    tbot.start()
    ana = await tbot.register("ana")
    api.fail_next("sendMessage", count=2, retry_after=2)
    api.send(ana, "How do we set up a local safety council?")
    await api.expect(ana.id, "Setting up a Local Safety Council", within=30)
    extra = await api.settle(ana.id, 3)
    assert [m.text for m in extra if "Setting up" in m.text] == []  # not sent twice


async def test_killed_while_updates_arrive_none_lost_none_repeated(
    api: BotApiServer, tbot: TelegramBot
) -> None:
    tbot.start()
    ana = await tbot.register("ana")
    tbot.kill()
    questions = [f"/ask Question number {i} about our council's budget" for i in range(8)]
    for question in questions[:3]:
        api.send(ana, question)
    tbot.start()
    for question in questions[3:]:
        api.send(ana, question)
        await asyncio.sleep(0.2)
    tbot.kill()  # again, in the middle of the burst
    tbot.start()
    received: list[SentMessage] = []
    deadline = time.monotonic() + 90  # a restart takes long on a busy machine
    while len({ticket_number(m) for m in received if "ticket #" in m.text}) < len(questions):
        assert time.monotonic() < deadline, [m.text[:50] for m in received]
        received += await api.settle(ana.id, 0.5)
    # Every update confirmed and every reply sent: a repeat would have arrived by now.
    while api.pending_updates():
        assert time.monotonic() < deadline, "updates left unconfirmed"
        await asyncio.sleep(0.1)
    await delivered(tbot)
    received += await api.settle(ana.id, 0)
    tickets = sorted(ticket_number(m) for m in received if "ticket #" in m.text)
    # One distinct ticket per question, each the one stored. (Not 1..N: a ticket being
    # inserted when the bot was killed consumes a PostgreSQL sequence value.)
    assert len(set(tickets)) == len(questions), [m.text[:50] for m in received]
    assert tickets == sorted(id for (id,) in tbot.sql("select id from tickets"))


@pytest.mark.one_engine  # about the platform, not the database
async def test_webhook_mode_with_a_right_and_a_wrong_secret(
    api: BotApiServer, tmp_path: Path
) -> None:
    port = free_port()
    secret = secrets.token_urlsafe(24)
    url = f"http://127.0.0.1:{port}/telegram/hook"
    hooked = TelegramBot(
        api,
        tmp_path / "bot",
        webhook_url=url,
        webhook_port=str(port),
        webhook_secret=secret,
    )
    try:
        hooked.start()
        ana = await hooked.register("ana")  # through the webhook: polling is refused
        assert api.calls["getUpdates"] == 0
        api.send(ana, "How do we set up a local safety council?")
        await api.expect(ana.id, "Setting up a Local Safety Council")
        forged = {
            "update_id": 999999,
            "message": {
                "message_id": 999,
                "date": 0,
                "chat": {"id": ana.id, "type": "private"},
                "from": {"id": ana.id, "is_bot": False, "first_name": "Ana"},
                "text": "/tickets",
            },
        }
        async with aiohttp.ClientSession() as session:
            for wrong in ({"X-Telegram-Bot-Api-Secret-Token": "guess"}, {}):
                async with session.post(url, json=forged, headers=wrong) as response:
                    assert response.status == 403
        assert await api.settle(ana.id, 2) == []
        assert hooked.sql("select count(*) from inbound where message_id like '%:999'") == [(0,)]
    finally:
        hooked.stop()


@pytest.mark.one_engine  # about the platform, not the database
async def test_a_refused_token_stops_the_bot_with_one_clear_line(
    api: BotApiServer, tmp_path: Path
) -> None:
    wrong = TelegramBot(api, tmp_path / "bot", token="654321:" + "B" * 35)
    wrong.start()
    assert wrong.process is not None
    assert await asyncio.to_thread(wrong.process.wait, 60) == 1
    log = wrong.log.read_text()
    assert "refused the bot token" in log
    assert "654321:" not in log and "Traceback" not in log


@pytest.mark.one_engine  # about the platform, not the database
async def test_the_menu_speaks_the_languages_telegram_can_name(
    api: BotApiServer, tbot: TelegramBot
) -> None:
    tbot.start()
    await tbot.register("ana")
    english = api.commands({"type": "all_private_chats"})
    assert english[0] == {"command": "help", "description": "What I can do for you"}


@pytest.mark.one_engine  # about the platform, not the database
async def test_a_long_answer_arrives_in_pieces_telegram_accepts(
    api: BotApiServer, tbot: TelegramBot
) -> None:
    steps = [f"**Step {i}.** Агенда & <план> за општината: " + "detail " * 80 for i in range(12)]
    long_entry = Entry(
        id="long-guide",
        title="A long guide to municipal action plans",
        questions=("Where is the long guide to municipal action plans?",),
        body="\n\n".join(steps),
    )
    write_entries([long_entry], tbot.base / "knowledge")
    tbot.cli("kb", "import", str(tbot.base / "knowledge"))
    tbot.start()
    ana = await tbot.register("ana")
    api.send(ana, "Where is the long guide to municipal action plans?")
    first = await api.expect(ana.id, "A long guide to municipal action plans")
    rest = await api.settle(ana.id, 2)
    pieces = [first, *rest]
    assert len(pieces) >= 2 and api.rejected == []
    assert all(len(p.text) <= 4096 for p in pieces)
    text = "\n\n".join(p.text for p in pieces)
    assert all(f"Step {i}." in text for i in range(12)) and "<план>" in text
    # The keyboard goes with the last piece.
    assert buttons(pieces[-1]) and not any(buttons(p) for p in pieces[:-1])


async def test_every_language_through_telegram(api: BotApiServer, tbot: TelegramBot) -> None:
    from helpdesk.domain.languages import SUPPORTED_LANGUAGES
    from helpdesk.i18n import LanguageName, Msg, Translator

    t = Translator()
    tbot.start()
    ana = await tbot.register("ana")
    api.send(ana, "/language")
    choose = await api.expect(ana.id, "/language")
    assert len(buttons(choose)) == len(SUPPORTED_LANGUAGES)
    for code in SUPPORTED_LANGUAGES:
        api.press(ana, choose.message_id, f"/language {code}")
        await api.expect(
            ana.id, t.translate(Msg.LANGUAGE_SET, code, {"language": LanguageName(code)})
        )
        api.send(ana, "How do we set up a local safety council?")
        answer = await api.expect(ana.id, t.translate(Msg.ANSWER_DID_IT_HELP, code, {}))
        labels = set(buttons(answer))
        for key in (Msg.BUTTON_HELPFUL, Msg.BUTTON_NOT_HELPFUL, Msg.BUTTON_ASK_EXPERT):
            assert t.translate(key, code, {}) in labels, (code, labels)
        api.send(ana, "/help")
        await api.expect(ana.id, t.translate(Msg.HELP_OFFICIAL, code, {}).split("\n")[0])
        if len(code) == 2 and code != "en":  # the menu in every language Telegram names
            menu = api.commands({"type": "all_private_chats"}, language_code=code)
            assert menu[0]["description"] == t.translate(Msg.MENU_HELP, code, {})
    assert api.rejected == []


async def test_a_question_of_emoji_reaches_the_expert_whole_in_pieces_telegram_accepts(
    api: BotApiServer, tbot: TelegramBot
) -> None:
    tbot.start()
    vesna = await tbot.register("vesna", "expert", "--languages", "en")
    ana = await tbot.register("ana", "official", "--languages", "en")
    api.send(ana, f"/ask {EMOJI_QUESTION}")
    await api.expect(ana.id, "passed your question to an expert (ticket #1)")
    notice = await api.expect(vesna.id, "New question for you: ticket #1")
    last = await api.expect(vesna.id, "send /answer 1 followed by your answer")
    pieces = [notice, *await api.settle(vesna.id, 0), last]
    assert len(pieces) >= 3  # the header, then the question in two pieces at least
    assert all(utf16_len(piece.text) <= 4096 for piece in pieces)
    quoted = "".join(piece.text for piece in pieces)
    assert quoted.count("😀") == 3970 and "abcdefghijklmnopqrstuvw" in quoted
    assert buttons(last) == {"I can't take it": "/decline 1"}
    assert not any(buttons(piece) for piece in pieces[:-1])
    outbox = await delivered(tbot)
    assert [attempts for attempts, _ in outbox] == [1] * len(outbox)
    assert api.rejected == [] and api.errors == []
    assert api.calls["sendMessage"] == sent_messages(api, vesna, ana)  # none sent twice


@pytest.mark.one_engine  # about the platform, not the database
async def test_answers_of_an_unexpected_shape_count_as_sent(
    api: BotApiServer, tbot: TelegramBot
) -> None:
    """Telegram took each message (HTTP 200, ok) but its result is not a valid Message:
    each goes out once, a reply in several pieces included, and nothing is retried."""
    tbot.start()
    vesna = await tbot.register("vesna", "expert", "--languages", "en")
    ana = await tbot.register("ana", "official", "--languages", "en")
    api.garble_next("sendMessage", count=1000)
    api.send(ana, "How do we set up a local safety council?")
    await api.expect(ana.id, "Setting up a Local Safety Council")
    api.send(ana, f"/ask {EMOJI_QUESTION}")
    await api.expect(ana.id, "passed your question to an expert (ticket #1)")
    await api.expect(vesna.id, "send /answer 1 followed by your answer")
    outbox = await delivered(tbot)
    assert [attempts for attempts, _ in outbox] == [1] * len(outbox)
    assert api.errors == []
    assert api.calls["sendMessage"] == sent_messages(api, vesna, ana)  # each sent once
    # The expert answers with /answer (a reply to the notice needs its message id).
    api.send(vesna, "/answer 1 The municipal council adopts it.")
    await api.expect(ana.id, "An expert answered your question (ticket #1)")
    outbox = await delivered(tbot)
    assert [attempts for attempts, _ in outbox] == [1] * len(outbox)
    assert api.calls["sendMessage"] == sent_messages(api, vesna, ana)


@pytest.mark.one_engine  # about the platform, not the database
async def test_the_base_url_in_python_telegram_bots_form_works(
    api: BotApiServer, tmp_path: Path
) -> None:
    """``http://host:port/bot`` is how python-telegram-bot writes a Bot API address."""
    running = TelegramBot(api, tmp_path / "bot", base_url=f"{api.url}/bot/")
    try:
        running.start()
        ana = await running.register("ana")  # the invitation's t.me link asks the server too
        api.send(ana, "How do we set up a local safety council?")
        await api.expect(ana.id, "Setting up a Local Safety Council")
    finally:
        running.stop()


@pytest.mark.one_engine  # about the platform, not the database
async def test_an_address_that_is_not_a_bot_api_stops_the_bot_with_one_clear_line(
    api: BotApiServer, tmp_path: Path
) -> None:
    wrong = f"{api.url}/no-bot-api-here"  # answers 404 to every Bot API call
    running = TelegramBot(api, tmp_path / "bot", base_url=wrong)
    running.start()
    assert running.process is not None
    assert await asyncio.to_thread(running.process.wait, 60) == 1
    log = running.log.read_text()
    [line] = [line for line in log.splitlines() if "HELPDESK_TELEGRAM_BASE_URL" in line]
    assert wrong in line and "HELPDESK_TELEGRAM_TOKEN" in line
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert "Traceback" not in log and "retrying" not in log


async def test_a_refused_message_is_kept_failed_staff_are_told_once_and_staff_resend_it(
    api: BotApiServer, tbot: TelegramBot
) -> None:
    """The official blocked the bot: the expert's answer to them is refused for good. It is
    not retried, staff hear of it once (with its ticket), `outbox list --failed` shows it,
    and once the official writes again (unblocking), staff resend it."""
    tbot.start()
    sara = await tbot.register("sara", "staff")
    vesna = await tbot.register("vesna", "expert", "--languages", "en")
    ana = await tbot.register("ana")
    api.send(ana, UNMATCHED)
    number = ticket_number(await api.expect(ana.id, "passed your question to an expert"))
    notice = await api.expect(vesna.id, f"New question for you: ticket #{number}")
    api.block(ana)
    api.send(vesna, "The municipal council decides it in December.", reply_to=notice.message_id)
    alert = await api.expect(sara.id, "could not be delivered")
    assert f"ticket #{number}" in alert.text and "Ana (#" in alert.text
    failed = tbot.cli("outbox", "list", "--failed")
    item = int(re.search(r"#(\d+)", failed)[1])  # type: ignore[index]
    assert f"ticket:{number}" in failed and "blocked" in failed
    await asyncio.sleep(3)  # long enough for retries to show, were there any
    assert api.calls["sendMessage"] == sent_messages(api, sara, vesna, ana) + 1  # the refusal
    assert len([m for m in await api.settle(sara.id, 0) if "could not be delivered" in m.text]) == 0
    api.send(ana, "/help")  # writing again unblocks, as in Telegram
    await api.expect(ana.id, "")
    assert "Queued again" in tbot.cli("outbox", "resend", str(item))
    await api.expect(ana.id, "An expert answered your question")
    assert tbot.cli("outbox", "list", "--failed").strip() == ""
