"""The Bot API stand-in itself, driven by python-telegram-bot over real HTTP: every refusal the
bot must survive, and the update/offset semantics polling relies on."""

import asyncio
import datetime as dt
import json
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from aiohttp import ClientSession, FormData, web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from tests.servers.telegram import BotApiServer, HtmlError, buttons, parse_html

TOKEN = "123456:stand-in-token"
JSON = dict[str, Any]


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer(TOKEN) as running:
        yield running


def client(server: BotApiServer, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=f"{server.url}/bot", base_file_url=f"{server.url}/file/bot")


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    async with client(server) as running:
        yield running


async def raw(server: BotApiServer, method: str, token: str = TOKEN, **request: Any) -> JSON:
    """A call without python-telegram-bot, to see the exact answer (status folded in)."""
    verb = request.pop("verb", "POST")
    url = f"{server.url}/bot{token}/{method}"
    async with ClientSession() as session, session.request(verb, url, **request) as response:
        body: JSON = await response.json()
        assert response.status == body.get("error_code", 200)
        return body


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.05)


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


async def test_application_starts_polls_replies_and_confirms_on_shutdown(
    server: BotApiServer,
) -> None:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{server.url}/bot")
        .base_file_url(f"{server.url}/file/bot")
        .build()
    )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.message is not None
        await update.effective_chat.send_message(
            f"<b>echo</b> {update.message.text}", parse_mode=ParseMode.HTML
        )

    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    assert server.calls == {"getMe": 1}
    assert app.bot.username == "helpdesk_test_bot"
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    ann = server.user("Ann")
    server.send(ann, "hello")
    reply = await server.expect(ann.id, "echo hello", within=5)
    assert (reply.text, reply.html) == ("echo hello", "<b>echo</b> hello")
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    calls = server.calls
    assert calls["deleteWebhook"] == 1 and calls["sendMessage"] == 1
    assert server.pending_updates() == 0  # the final getUpdates confirmed what was handled
    assert server.errors == []


async def test_wire_format_tokens_methods_and_encodings(server: BotApiServer) -> None:
    assert await raw(server, "getMe", token="1:wrong") == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }
    assert await raw(server, "sendFlowers") == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found",
    }
    me = await raw(server, "GETME", verb="GET")  # method names are case-insensitive
    assert me["result"]["id"] == 123456 and me["result"]["is_bot"] is True
    ann = server.user("Ann")
    by_query = await raw(server, "sendMessage", params={"chat_id": ann.id, "text": "q"})
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    by_json = await raw(
        server, "sendmessage", json={"chat_id": ann.id, "text": "j", "reply_markup": markup}
    )
    form = FormData({"chat_id": str(ann.id), "text": "m", "reply_markup": json.dumps(markup)})
    form.add_field("document", b"bytes", filename="x.txt")  # forces multipart/form-data
    by_multipart = await raw(server, "sendMessage", data=form)
    assert [b["result"]["text"] for b in (by_query, by_json, by_multipart)] == ["q", "j", "m"]
    assert by_json["result"]["reply_markup"] == by_multipart["result"]["reply_markup"] == markup
    wrong = client(server, "1:wrong")
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    await wrong.shutdown()


async def test_updates_stay_until_an_offset_confirms_them(server: BotApiServer, bot: Bot) -> None:
    ann = server.user("Ann")
    for text in ("one", "two", "three"):
        server.send(ann, text)
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["one", "two", "three"]
    assert [u.update_id for u in await bot.get_updates()] == [u.update_id for u in first]
    assert server.pending_updates() == 3  # fetching alone confirms nothing

    rest = await bot.get_updates(offset=first[1].update_id)
    assert [u.update_id for u in rest] == [first[1].update_id, first[2].update_id]
    assert server.confirmed_offset == first[1].update_id
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [first[1].update_id]

    server.send(ann, "four")
    last = await bot.get_updates(offset=-1)  # only the newest survives; the rest are forgotten
    assert [u.message.text for u in last if u.message] == ["four"]
    assert server.pending_updates() == 1
    assert await bot.get_updates(offset=last[0].update_id + 1) == ()
    assert server.pending_updates() == 0


async def test_long_poll_waits_and_wakes_on_a_new_update(server: BotApiServer, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 3

    ann = server.user("Ann")
    writer = asyncio.get_running_loop().call_later(0.3, server.send, ann, "hi")
    started = time.monotonic()
    updates = await bot.get_updates(timeout=10)
    writer.cancel()
    assert [u.message.text for u in updates if u.message] == ["hi"]
    assert time.monotonic() - started < 3


async def test_a_second_poller_terminates_the_first(server: BotApiServer, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.3)
    async with client(server) as second:
        assert await second.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first
    assert ("getUpdates", 409) in [(method, code) for method, code, _ in server.errors]


async def test_a_webhook_excludes_polling_and_its_secret_is_checked(
    server: BotApiServer, bot: Bot
) -> None:
    with pytest.raises(BadRequest, match="Secret token contains unallowed characters"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="not allowed!")
    with pytest.raises(BadRequest):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="x" * 257)
    assert await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="Ok_secret-1")
    assert await raw(server, "getUpdates") == {
        "ok": False,
        "error_code": 409,
        "description": "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    }
    info = await bot.get_webhook_info()
    assert (info.url, info.has_custom_certificate) == ("http://127.0.0.1:9/hook", False)
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()
    assert (await bot.get_webhook_info()).url == ""


async def test_webhook_delivers_in_order_retries_failures_and_confirms_on_2xx(
    server: BotApiServer, bot: Bot
) -> None:
    received: list[tuple[str | None, JSON]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=500 if len(received) == 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(runner, sock)
        await site.start()
        try:
            ann = server.user("Ann")
            await bot.set_webhook(
                f"http://127.0.0.1:{sock.getsockname()[1]}/hook", secret_token="s3"
            )
            first, second = server.send(ann, "one"), server.send(ann, "two")
            await until(lambda: server.pending_updates() == 0)
            info = await bot.get_webhook_info()
        finally:
            await runner.cleanup()
    assert server.pending_updates() == 0
    ids = [update["update_id"] for _, update in received]
    assert [u["message"]["message_id"] for _, u in received] == [first, first, second]
    assert server.webhook_attempts == [(ids[0], 500), (ids[0], 200), (ids[2], 200)]
    assert {secret for secret, _ in received} == {"s3"}
    assert info.last_error_message and "500" in info.last_error_message
    assert info.pending_update_count == 0


async def test_an_unreachable_webhook_keeps_the_update_pending(
    server: BotApiServer, bot: Bot
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
    server.send(server.user("Ann"), "hello?")
    await until(lambda: len(server.webhook_attempts) >= 2)
    attempts = server.webhook_attempts
    assert len(attempts) >= 2 and all(isinstance(outcome, str) for _, outcome in attempts)
    assert (await bot.get_webhook_info()).pending_update_count == 1
    await bot.delete_webhook(drop_pending_updates=True)
    assert server.pending_updates() == 0


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<p>hi</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("Привет<br>", 'Unsupported start tag "br" at byte offset 12'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ('<span class="x">a</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_html_telegram_cannot_parse_is_refused(
    server: BotApiServer, text: str, description: str
) -> None:
    ann = server.user("Ann")
    answer = await raw(
        server, "sendMessage", data={"chat_id": ann.id, "text": text, "parse_mode": "HTML"}
    )
    assert answer == {
        "ok": False,
        "error_code": 400,
        "description": f"Bad Request: can't parse entities: {description}",
    }
    assert server.rejected == [
        ("sendMessage", {"chat_id": str(ann.id), "text": text, "parse_mode": "HTML"})
    ]
    assert server.messages(ann.id) == []


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("<b></b>", "HTML", "message text is empty"),
        (" \n ", None, "message text is empty"),
        ("x" * 4097, None, "message is too long"),
        ("😀" * 2049, None, "message is too long"),  # 4098 UTF-16 code units
        ("🇲🇰" * 1024 + "x", None, "message is too long"),  # a flag is four units
        ("a" * 23 + "😀" * 3970, None, "message is too long"),  # the 7963 units
        ("<b>" + "😀" * 2048 + "</b>x", "HTML", "message is too long"),  # after parsing
        ("&lt;" * 4097, "HTML", "message is too long"),  # counted after parsing
        ("*x*", "MarkdownV2", "can't parse entities"),
    ],
)
async def test_empty_and_over_long_texts_are_refused(
    server: BotApiServer, bot: Bot, text: str, parse_mode: str | None, error: str
) -> None:
    ann = server.user("Ann")
    with pytest.raises(BadRequest) as refused:
        await bot.send_message(ann.id, text, parse_mode=parse_mode)
    assert error in refused.value.message.lower()


async def test_texts_at_the_limits_and_entities_are_accepted(
    server: BotApiServer, bot: Bot
) -> None:
    ann = server.user("Ann")
    assert (await bot.send_message(ann.id, "x" * 4096)).text == "x" * 4096
    assert (await bot.send_message(ann.id, "😀" * 2048)).text == "😀" * 2048
    assert (await bot.send_message(ann.id, "市" * 4096)).text == "市" * 4096  # one unit each
    html_at_limit = "<blockquote>" + "&amp;" * 2000 + "😀" * 1048 + "</blockquote>"
    assert (await bot.send_message(ann.id, html_at_limit, parse_mode="HTML")).entities
    sent = await bot.send_message(
        ann.id, "a & b &nbsp; &lt;tag&gt; &#65;&#x42; &quot;q&quot;", parse_mode="HTML"
    )
    assert sent.text == 'a & b &nbsp; <tag> AB "q"'
    text, entities = parse_html(
        '😀 <b>bold <i>both</i></b> <a href="example.org">link</a>\n'
        '<pre><code class="language-python">x = 1</code></pre>'
        "<blockquote expandable>quote</blockquote> <tg-spoiler>s</tg-spoiler>"
    )
    assert text == "😀 bold both link\nx = 1quote s"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "http://example.org/"},
        {"type": "pre", "offset": 18, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 23, "length": 5},
        {"type": "spoiler", "offset": 29, "length": 1},
    ]
    with pytest.raises(HtmlError, match="unmatched surrogate"):
        parse_html("&#xD83D;")


async def test_sent_messages_are_full_message_objects(server: BotApiServer, bot: Bot) -> None:
    ann = server.user("Ann", username="ann")
    asked = server.send(ann, "how do I apply?")
    sent = await bot.send_message(
        ann.id,
        "<b>Answer</b>: <i>see</i> the guide",
        parse_mode="HTML",
        reply_markup=keyboard([("Helpful", "fb:1:y"), ("Not helpful", "fb:1:n")]),
        reply_to_message_id=asked,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        disable_notification=True,
    )
    assert sent.message_id == asked + 1
    assert sent.from_user is not None and sent.from_user.id == 123456 and sent.from_user.is_bot
    assert sent.chat.id == ann.id and sent.chat.type == "private"
    assert sent.text == "Answer: see the guide"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 6),
        ("italic", 8, 3),
    ]
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.text == "how do I apply?"
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][1].callback_data == "fb:1:n"
    assert abs(sent.date.timestamp() - time.time()) < 5

    [stored] = server.messages(ann.id)
    assert (stored.message_id, stored.reply_to_message_id) == (sent.message_id, asked)
    assert stored.html == "<b>Answer</b>: <i>see</i> the guide" and stored.parse_mode == "HTML"
    assert buttons(stored) == [("Helpful", "fb:1:y"), ("Not helpful", "fb:1:n")]
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(ann.id, "x", reply_to_message_id=999)


async def test_unknown_chats_blocked_users_and_left_groups(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hello")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message("@nobody", "hello")
    ann = server.user("Ann")
    assert (await bot.send_message(ann.id, "first contact")).text == "first contact"
    server.block(ann)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ann.id, "still there?")
    server.send(ann, "/start")
    assert await bot.send_message(ann.id, "welcome back")

    group = server.group("Hub")
    server.send(ann, "hi all", chat=group)
    assert (await bot.get_chat(group["id"])).title == "Hub"
    assert await bot.leave_chat(group["id"])
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(group["id"], "bye")
    pending = server.pending_updates()
    server.send(ann, "anyone?", chat=group)  # the bot is not there to see it
    assert server.pending_updates() == pending
    with pytest.raises(BadRequest):
        await bot.leave_chat(ann.id)


async def test_inline_keyboard_refusals(server: BotApiServer, bot: Bot) -> None:
    ann = server.user("Ann")
    assert await bot.send_message(ann.id, "ok", reply_markup=keyboard([("A", "é" * 32)]))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ann.id, "long", reply_markup=keyboard([("A", "é" * 32 + "x")]))
    for button in (
        {"text": "no action"},
        {"text": "two", "callback_data": "a", "url": "https://example.org"},
        {"callback_data": "no text"},
    ):
        answer = await raw(
            server,
            "sendMessage",
            json={"chat_id": ann.id, "text": "x", "reply_markup": {"inline_keyboard": [[button]]}},
        )
        assert answer["error_code"] == 400
        assert answer["description"].startswith("Bad Request: can't parse inline keyboard button")
    assert [method for method, _ in server.rejected] == ["sendMessage"] * 4
    assert len(server.messages(ann.id)) == 1


async def test_edits_update_the_message_and_refuse_no_change(
    server: BotApiServer, bot: Bot
) -> None:
    ann = server.user("Ann")
    asked = server.send(ann, "question")
    sent = await bot.send_message(ann.id, "Was it helpful?", reply_markup=keyboard([("Yes", "y")]))
    await server.expect(ann.id, "helpful")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "Was it helpful?", ann.id, sent.message_id, reply_markup=keyboard([("Yes", "y")])
        )
    edited = await bot.edit_message_text(
        "<b>Thanks!</b>", ann.id, sent.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, object) and not isinstance(edited, bool)
    assert edited.text == "Thanks!" and edited.reply_markup is None  # no markup: keyboard gone
    again = await server.expect(ann.id, "Thanks")  # an edit shows up again for the reader
    assert again.edited and again.history == ["Was it helpful?"] and again.buttons == []

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(ann.id, sent.message_id)
    await bot.edit_message_reply_markup(
        ann.id, sent.message_id, reply_markup=keyboard([("Undo", "u")])
    )
    assert server.messages(ann.id)[0].buttons == [("Undo", "u")]
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", ann.id, 999)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", ann.id, asked)
    with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
        await bot.edit_message_text("<p>x</p>", ann.id, sent.message_id, parse_mode="HTML")


async def test_callback_queries_are_answered_once(server: BotApiServer, bot: Bot) -> None:
    ann = server.user("Ann")
    sent = await bot.send_message(ann.id, "Rate it", reply_markup=keyboard([("Good", "r:good")]))
    query_id = server.press(ann, sent.message_id, "r:forged")  # data no button carries: allowed
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.id == query_id and query.data == "r:forged"
    assert query.from_user.id == ann.id and query.chat_instance
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query_id, text="Noted")
    for invalid in (query_id, "123"):
        answer = await raw(server, "answerCallbackQuery", data={"callback_query_id": invalid})
        assert answer["description"] == (
            "Bad Request: query is too old and response timeout expired or query ID is invalid"
        )
    assert server.callback_answers == [
        {"callback_query_id": query_id, "text": "Noted", "show_alert": False, "url": None}
    ]
    with pytest.raises(ValueError, match="no message"):
        server.press(ann, 999, "x")


async def test_commands_are_validated_and_kept_per_scope_and_language(
    server: BotApiServer, bot: Bot
) -> None:
    commands = [BotCommand("start", "Begin"), BotCommand("ask_expert", "Ask an expert")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands([BotCommand("start", "Начать")], language_code="ru")
    private = BotCommandScopeAllPrivateChats()
    assert await bot.set_my_commands([BotCommand("help", "Help")], scope=private)
    assert [c.command for c in await bot.get_my_commands()] == ["start", "ask_expert"]
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == ["Начать"]
    assert [c.command for c in await bot.get_my_commands(scope=private)] == ["help"]
    assert server.commands({"type": "all_private_chats"}) == [
        {"command": "help", "description": "Help"}
    ]
    for bad, error in (
        (BotCommand("Start", "x"), "Bot_command_invalid"),
        (BotCommand("a-b", "x"), "Bot_command_invalid"),
        (BotCommand("x" * 33, "x"), "Bot_command_invalid"),
        (BotCommand("start", ""), "Bot_command_description_invalid"),
        (BotCommand("start", "x" * 257), "Bot_command_description_invalid"),
    ):
        with pytest.raises(BadRequest, match=error):
            await bot.set_my_commands([bad])
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand(f"c{i}", "x") for i in range(101)])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_injected_rate_limits_answer_429_and_do_nothing(
    server: BotApiServer, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without it, python-telegram-bot 22 warns (deprecation) on every RetryAfter it builds.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    ann = server.user("Ann")
    server.fail_next("sendMessage", count=2, retry_after=3)
    assert await raw(server, "sendMessage", data={"chat_id": ann.id, "text": "a"}) == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    with pytest.raises(RetryAfter) as limited:
        await bot.send_message(ann.id, "b")
    assert limited.value.retry_after == dt.timedelta(seconds=3)
    assert await bot.send_message(ann.id, "c")
    assert [m.text for m in server.messages(ann.id)] == ["c"]
    assert server.calls["sendMessage"] == 3 and server.rejected == []


async def test_simulated_users_write_like_telegram_clients(server: BotApiServer, bot: Bot) -> None:
    ann = server.user("Ann", language_code="uk", username="ann_k")
    bob = server.user("Bob", language_code=None)
    assert ann.id != bob.id
    command = server.send(ann, "/start@helpdesk_test_bot invite-code")
    reply = server.send(ann, "and this", reply_to=command)
    server.send_non_text(ann, "sticker")
    server.send_non_text(bob, "photo")
    server.send_edited(ann, reply, "and this, edited")
    group = server.group("Hub")
    server.send(bob, "/help", chat=group)
    updates = await bot.get_updates()
    messages = [u.message or u.edited_message for u in updates]
    assert all(m is not None for m in messages)
    first, second, sticker, photo, edit, in_group = [m for m in messages if m is not None]
    assert first.from_user is not None and first.from_user.language_code == "uk"
    assert first.chat.id == ann.id and first.chat.type == "private"
    assert [(e.type, e.offset, e.length) for e in first.entities] == [("bot_command", 0, 24)]
    assert second.reply_to_message is not None and second.reply_to_message.message_id == command
    assert second.reply_to_message.text == "/start@helpdesk_test_bot invite-code"
    assert sticker.sticker is not None and sticker.text is None
    assert photo.photo and photo.chat.id == bob.id and photo.message_id == 1
    assert updates[4].edited_message is not None and edit.text == "and this, edited"
    assert in_group.chat.id == group["id"] < 0 and in_group.chat.type == "group"
    assert in_group.entities[0].length == len("/help")
    assert first.message_id < second.message_id < sticker.message_id


async def test_expect_and_settle_consume_what_the_bot_sent(server: BotApiServer, bot: Bot) -> None:
    ann = server.user("Ann")
    for text in ("one", "two", "three"):
        await bot.send_message(ann.id, text)
    assert (await server.expect(ann.id, "two", within=1)).text == "two"
    with pytest.raises(AssertionError, match=r"no message with 'two'.*\['one', 'three'\]"):
        await server.expect(ann.id, "two", within=0.2)
    assert [m.text for m in await server.settle(ann.id, 0.1)] == ["one", "three"]
    assert await server.settle(ann.id, 0) == []
    assert [m.text for m in server.messages(ann.id)] == ["one", "two", "three"]


async def test_the_remaining_methods(server: BotApiServer, bot: Bot) -> None:
    ann = server.user("Ann")
    assert await bot.send_chat_action(ann.id, ChatAction.TYPING)
    assert server.chat_actions == [(ann.id, "typing")]
    with pytest.raises(BadRequest):
        await bot.send_chat_action(ann.id, "dancing")
    chat = await bot.get_chat(ann.id)
    assert (chat.id, chat.type, chat.first_name) == (ann.id, "private", "Ann")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat(1)
    assert await bot.log_out()
    assert await bot.close()


@pytest.mark.parametrize(
    ("entities", "description"),
    [
        ([{"type": "bold", "offset": 0, "length": 3}], None),  # 😀 and a: three units
        ([{"type": "bold", "offset": 2, "length": 1}], None),
        (
            [{"type": "bold", "offset": 0, "length": 4}],
            "entity beginning at UTF-16 offset 0 ends after the end of the text at UTF-16 offset 4",
        ),
        (
            [{"type": "italic", "offset": 4, "length": 1}],
            "entity begins after the end of the text at UTF-16 offset 4",
        ),
        (
            [{"type": "bold", "offset": -1, "length": 1}],
            "receive an entity with incorrect offset -1",
        ),
        (
            [{"type": "bold", "offset": 0, "length": -2}],
            "receive an entity with incorrect length -2",
        ),
        (
            [{"type": "shiny", "offset": 0, "length": 1}],
            "can't parse MessageEntity: Unsupported type specified",
        ),
    ],
)
async def test_given_entities_are_checked_in_utf16_units(
    server: BotApiServer, entities: list[JSON], description: str | None
) -> None:
    ann = server.user("Ann")
    answer = await raw(
        server, "sendMessage", json={"chat_id": ann.id, "text": "😀a", "entities": entities}
    )
    if description is None:
        assert answer["result"]["entities"] == entities
    else:
        assert answer["description"] == f"Bad Request: {description}"
        assert answer["error_code"] == 400


async def test_deactivated_users_and_kicked_bots_are_forbidden(
    server: BotApiServer, bot: Bot
) -> None:
    ann = server.user("Ann")
    server.deactivate(ann)
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(ann.id, "hello")
    group = server.group("Hub")
    assert await bot.send_message(group["id"], "hello, group")
    server.kick(group)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(group["id"], "still here?")
    server.send(ann, "anyone?", chat=group)
    assert server.pending_updates() == 0  # the bot is not there to see it
    assert server.errors == [
        ("sendMessage", 403, "Forbidden: user is deactivated"),
        ("sendMessage", 403, "Forbidden: bot was kicked from the group chat"),
    ]


async def test_garbled_answers_send_all_the_same(server: BotApiServer, bot: Bot) -> None:
    ann = server.user("Ann")
    server.garble_next("sendMessage", count=2)
    answer = await raw(server, "sendMessage", data={"chat_id": ann.id, "text": "one"})
    assert answer["ok"] is True and answer["result"]["text"] == "one"
    assert isinstance(answer["result"]["date"], str)  # a Unix time in the Bot API
    with pytest.raises(TypeError):  # python-telegram-bot cannot read it as a Message
        await bot.send_message(ann.id, "two")
    assert (await bot.send_message(ann.id, "three")).text == "three"  # count used up
    server.garble_next("sendMessage", body=b"<html>sent</html>")
    async with ClientSession() as session:
        url = f"{server.url}/bot{TOKEN}/sendMessage"
        async with session.post(url, data={"chat_id": str(ann.id), "text": "four"}) as response:
            assert (response.status, await response.read()) == (200, b"<html>sent</html>")
    assert [m.text for m in server.messages(ann.id)] == ["one", "two", "three", "four"]
    assert server.errors == [] and server.calls["sendMessage"] == 4
