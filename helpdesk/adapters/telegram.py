"""The Telegram adapter: private chats with the bot through python-telegram-bot.

What it gets right, because Telegram support bots often do not:

- No update is lost or handled twice across a restart or a crash. Polling confirms an
  update to Telegram (the next ``getUpdates`` offset) only after it was handled, and the
  core records every handled message, so what a crash interrupts is fetched again and
  handled once. In webhook mode the request is answered only after the update was
  handled, so Telegram retries what a crash interrupted.
- Messages go out in Telegram's HTML with every piece of text escaped (no "can't parse
  entities" on Cyrillic or on a ``<``), cut at paragraphs below 4096 UTF-16 code units (as
  Telegram counts), with button data within 64 bytes. A flood limit (429 ``retry_after``)
  holds the outbox for as long as Telegram asks; network errors are retried by the outbox;
  a refusal that will not change (a bad request, a blocked bot, an unknown chat) is
  ``Undeliverable``, kept by the outbox for staff rather than retried for ever. A message
  Telegram took but answered in a form that cannot be read counts as sent: sending it
  again would repeat it.
- Group chats get a polite refusal and the bot leaves them, except a staff group named in
  the settings, where staff may use commands (answers come in private).

The adapter implements ``helpdesk.adapters.contract``: reconnecting with backoff is the
contract's; a refused token or an address that is no Bot API (401 or 404 at any call) is
``Misconfigured``, one line and no retry. The Application's explicit lifecycle is used
(initialize, start, stop, shutdown) so that the bot shares one asyncio loop with the
other adapters; its Updater and JobQueue are not: fetching is done here so that
confirming an update waits for its handling, and scheduling belongs to the core.
"""

import asyncio
import contextlib
import hashlib
import hmac
import html
import json
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, CallbackContext, TypeHandler
from telegram.request import HTTPXRequest, RequestData
from telegram.warnings import PTBUserWarning

from helpdesk.adapters.contract import (
    HANDLED_AT_ONCE,
    Handler,
    Inbound,
    Misconfigured,
    RetryLater,
    Undeliverable,
)
from helpdesk.adapters.telegram_html import render_telegram
from helpdesk.i18n import Msg, Reply, Translator

__all__ = ["PLATFORM", "TelegramAdapter", "TelegramRefused", "TelegramSettings", "deep_link"]

log = logging.getLogger(__name__)

PLATFORM = "telegram"
_TELEGRAM = "https://api.telegram.org"
_POLL_TIMEOUT = 25  # seconds Telegram holds a getUpdates open
_CALLBACK_LIMIT = 64  # bytes of callback data Telegram accepts
_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
# The command menu, in the order Telegram shows it.
_MENU = (
    ("help", Msg.MENU_HELP),
    ("ask", Msg.MENU_ASK),
    ("tickets", Msg.MENU_TICKETS),
    ("language", Msg.MENU_LANGUAGE),
    ("cancel", Msg.MENU_CANCEL),
    ("answer", Msg.MENU_ANSWER),
)
_TAG = re.compile(r"<[^>]+>")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class TelegramRefused(Misconfigured):
    """Telegram refused the bot's token: a configuration error, not worth retrying."""


class UnreadableAnswer(TelegramError):
    """The Bot API answered a call with success (2xx) in a form that cannot be read."""


class _Request(HTTPXRequest):
    """python-telegram-bot's HTTP client, telling an unreadable success apart.

    A 2xx answer whose body is not a Bot API answer (not JSON, no ``result``) raises
    ``UnreadableAnswer``: the call was done, so a send must not be repeated. Without this
    it would be a plain ``TelegramError`` or a ``KeyError``, indistinguishable from a
    failure, and python-telegram-bot would log the body, which holds the message's text.
    """

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        write_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        connect_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        pool_timeout: Any = HTTPXRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        code, payload = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if HTTPStatus.OK <= code < HTTPStatus.MULTIPLE_CHOICES and not _readable(payload):
            raise UnreadableAnswer(f"HTTP {code} with an answer that is not the Bot API's")
        return code, payload


def _readable(payload: bytes) -> bool:
    try:
        answer = json.loads(payload.decode("utf-8", "replace"))
    except ValueError:
        return False
    return isinstance(answer, dict) and "result" in answer


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    # A local Bot API server, as http://127.0.0.1:8081 or (python-telegram-bot's form)
    # http://127.0.0.1:8081/bot; unset: Telegram's own.
    base_url: str | None = None
    webhook_url: str | None = None  # set: webhook mode; unset: long polling
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = None  # unset: derived from the token
    staff_chat_id: int | None = None  # a group where staff may use commands

    @property
    def secret(self) -> str:
        """The secret Telegram sends with every webhook request. Derived from the token
        when not set, so that every worker of one bot agrees without more configuration."""
        if self.webhook_secret:
            return self.webhook_secret
        return hashlib.sha256(b"helpdesk-webhook:" + self.token.encode()).hexdigest()[:48]

    @property
    def api_base(self) -> str:
        """The Bot API server's address, without the ``/bot`` that goes before the token
        in its URLs (either form of the setting gives the same) and without trailing
        slashes."""
        base = (self.base_url or _TELEGRAM).strip().rstrip("/")
        return base.removesuffix("/bot").rstrip("/")

    @property
    def api_url(self) -> str:
        """What python-telegram-bot calls ``base_url``: the token and method follow it."""
        return f"{self.api_base}/bot"

    @property
    def file_url(self) -> str:
        return f"{self.api_base}/file/bot"

    def refused(self) -> str:
        """The one line that says which settings to check when the Bot API answers 401 or
        404 to the bot's first call. Never the token; the address without a password."""
        if not self.base_url:
            return "Telegram refused the bot token: check HELPDESK_TELEGRAM_TOKEN"
        parts = urlsplit(self.api_base)
        shown = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        shown = shown.replace(self.token, "<token>")  # pasted into the address by mistake
        return (
            f"the Bot API at {shown} refused the bot token or is not there (HTTP 401 or "
            "404): check HELPDESK_TELEGRAM_BASE_URL (the server's address, with or without "
            "/bot at the end) and HELPDESK_TELEGRAM_TOKEN"
        )


async def deep_link(settings: TelegramSettings, code: str) -> str | None:
    """``https://t.me/<bot>?start=CODE``: opening it starts the chat with ``/start CODE``.
    None when Telegram cannot be asked for the bot's name right now."""
    bot = Bot(settings.token, base_url=settings.api_url, base_file_url=settings.file_url)
    try:
        async with bot:
            return f"https://t.me/{bot.username}?start={code}"
    except (TelegramError, OSError):
        return None


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the type will become timedelta
        warnings.simplefilter("ignore")
        value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _callback_data(index: int, action: str) -> str:
    """The action itself when it fits (1-64 bytes of UTF-8, as Telegram counts); otherwise
    the button's number, which the core resolves through the person's latest menu, as when
    they type the number."""
    return action if 1 <= len(action.encode()) <= _CALLBACK_LIMIT else str(index)


def _sender_of(update: Update) -> object:
    """Whose update this is: their updates are handled in order (a chat's, if no one's)."""
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    return ("update", update.update_id)


def _plain(chunk: str) -> str:
    return html.unescape(_TAG.sub("", chunk))


class TelegramAdapter:
    """Receives by long polling or webhook, sends as the outbox's transport for ``telegram``."""

    platform = PLATFORM

    def __init__(self, settings: TelegramSettings, translator: Translator, handle: Handler) -> None:
        self.settings = settings
        self._translator = translator
        self._handle = handle
        builder = (
            ApplicationBuilder()
            .token(settings.token)
            .updater(None)
            .base_url(settings.api_url)
            .base_file_url(settings.file_url)
            .request(_Request())
        )
        self._app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        # Sends use do_api_request, to read Telegram's answer as plain JSON (see
        # _post_message); python-telegram-bot warns whenever it names a method it wraps.
        warnings.filterwarnings(
            "ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning
        )
        self._app.add_handler(TypeHandler(Update, self._on_update))
        self._app.add_error_handler(self._on_error)
        self._initialized = False
        self._ready = False
        self._offset: int | None = None
        self._handling = asyncio.Semaphore(HANDLED_AT_ONCE)
        self._sent_chunks: dict[str, int] = {}  # outbox key → pieces already sent this run

    @property
    def ready(self) -> bool:
        return self._ready

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token (getMe), register the webhook or remove it, set the menu."""
        with self._token_checked():
            await self._start()

    async def serve_once(self, stop: asyncio.Event) -> None:
        """One long poll, or the webhook server until ``stop`` is set."""
        with self._token_checked():
            if self.settings.webhook_url:
                await self._serve_webhook(stop)
            else:
                await self._poll_once()

    def retryable(self, error: Exception) -> bool:
        """Telegram or the network away (a refused token is ``TelegramRefused``)."""
        return isinstance(error, TelegramError | OSError)

    @contextlib.contextmanager
    def _token_checked(self) -> Iterator[None]:
        try:
            yield
        except InvalidToken:
            # Configuration, not weather (401 or 404: a wrong token or a wrong address):
            # say so once and stop. PTB's message may hold the token.
            raise TelegramRefused(self.settings.refused()) from None

    async def _start(self) -> None:
        app = self._app
        if not self._initialized:  # not again when retrying a start that failed later
            await app.initialize()  # getMe: fails here on a wrong token
            self._initialized = True
        if not app.running:
            await app.start()
        bot = app.bot
        if self.settings.webhook_url:
            await bot.set_webhook(
                self.settings.webhook_url,
                secret_token=self.settings.secret,
                allowed_updates=_UPDATES,
            )
        else:
            # A webhook left from an earlier configuration would make polling fail.
            await bot.delete_webhook(drop_pending_updates=False)
        await self._register_menu()
        self._ready = True
        log.info(
            "telegram: running as @%s (%s)",
            bot.username,
            "webhook" if self.settings.webhook_url else "long polling",
        )

    async def _register_menu(self) -> None:
        """The command menu, in English and in every language Telegram can name."""
        scope = BotCommandScopeAllPrivateChats()
        languages: list[str | None] = [None]
        languages += sorted({c.split("-")[0] for c in self._translator.available() if c != "en"})
        for language in languages:
            if language is not None and len(language) != 2:
                continue  # Telegram knows two-letter codes only (not "cnr")
            commands = [
                BotCommand(name, self._translator.translate(key, language, {})[:256])
                for name, key in _MENU
            ]
            await self._app.bot.set_my_commands(commands, scope=scope, language_code=language)

    async def close(self) -> None:
        app = self._app
        if app.running:
            await app.stop()
        if self._initialized:
            with contextlib.suppress(TelegramError, OSError):
                await app.shutdown()
            self._initialized = False
        self._ready = False

    # -- receiving: long polling --------------------------------------------------------

    async def _poll_once(self) -> None:
        updates = await self._app.bot.get_updates(
            offset=self._offset, timeout=_POLL_TIMEOUT, allowed_updates=_UPDATES
        )
        # Different people's updates are handled at once, each person's in order: one
        # slow question does not hold up everyone else's.
        queues: dict[object, list[Update]] = {}
        for update in updates:
            queues.setdefault(_sender_of(update), []).append(update)
        handled: set[int] = set()
        outcomes = await asyncio.gather(
            *(self._in_order(queue, handled) for queue in queues.values()),
            return_exceptions=True,
        )
        # Confirmed to Telegram by the next call only, and only up to the first update
        # not handled: a crash before it means Telegram sends the updates again, and the
        # core's record skips what was done.
        for update in updates:
            if update.update_id not in handled:
                break
            self._offset = update.update_id + 1
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _in_order(self, queue: list[Update], handled: set[int]) -> None:
        for update in queue:
            async with self._handling:
                await self._app.process_update(update)
            handled.add(update.update_id)

    # -- receiving: webhook -------------------------------------------------------------

    async def _serve_webhook(self, stop: asyncio.Event) -> None:
        assert self.settings.webhook_url
        path = urlsplit(self.settings.webhook_url).path or "/"
        server = web.Application(client_max_size=1 << 20)
        server.router.add_post(path, self._webhook)
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.webhook_listen, self.settings.webhook_port)
        await site.start()
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    async def _webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self.settings.secret.encode()):
            log.warning("telegram: webhook request with a wrong secret refused")
            return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self._app.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        # Answered after handling: if the bot dies meanwhile, Telegram delivers it again.
        await self._app.process_update(update)
        return web.Response()

    # -- receiving: what an update means ------------------------------------------------

    async def _on_update(self, update: Update, _: CallbackContext[Any, Any, Any, Any]) -> None:
        if update.callback_query is not None:
            await self._on_button(update)
        elif update.message is not None:
            await self._on_message(update.message)
        elif update.edited_message is not None:
            message = update.edited_message
            if message.chat.type == ChatType.PRIVATE and message.from_user:
                await self._say(message.chat.id, Msg.INPUT_EDITED, message.from_user.language_code)
        elif update.my_chat_member is not None:
            member = update.my_chat_member
            joined = member.new_chat_member.status in (
                ChatMemberStatus.MEMBER,
                ChatMemberStatus.ADMINISTRATOR,
            )
            if joined and member.chat.type != ChatType.PRIVATE:
                await self._refuse_group(member.chat.id, member.from_user.language_code)

    async def _on_message(self, message: Message) -> None:
        sender = message.from_user
        if sender is None or sender.is_bot:
            return
        text = message.text if message.text is not None else message.caption
        if message.chat.type != ChatType.PRIVATE:
            if message.chat.id != self.settings.staff_chat_id:
                await self._refuse_group(message.chat.id, sender.language_code)
                return
            if not (text or "").startswith("/"):
                return  # staff talking among themselves in their group
        replied = message.reply_to_message
        reply_to = None
        if replied is not None and replied.from_user and replied.from_user.id == self._app.bot.id:
            reply_to = f"{replied.chat.id}:{replied.message_id}"
        await self._handle(
            Inbound(
                platform=PLATFORM,
                address=str(sender.id),
                text=text,
                message_id=f"{message.chat.id}:{message.message_id}",
                reply_to=reply_to,
                display_name=sender.full_name,
                language_code=sender.language_code,
            )
        )

    async def _on_button(self, update: Update) -> None:
        query = update.callback_query
        assert query is not None
        with contextlib.suppress(TelegramError):  # only stops the spinner: not worth a retry
            await query.answer()
        sender = query.from_user
        await self._handle(
            Inbound(
                platform=PLATFORM,
                address=str(sender.id),
                text=query.data or "",
                message_id=f"button:{query.id}",
                display_name=sender.full_name,
                language_code=sender.language_code,
            )
        )

    async def _on_error(self, update: object, context: CallbackContext[Any, Any, Any, Any]) -> None:
        # Never the update itself: it holds the message text.
        kind = type(context.error).__name__ if context.error else "error"
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram: update %s failed: %s", update_id, kind, exc_info=context.error)

    async def _refuse_group(self, chat_id: int, language: str | None) -> None:
        await self._say(chat_id, Msg.GROUP_REFUSED, language)
        with contextlib.suppress(TelegramError):
            await self._app.bot.leave_chat(chat_id)

    async def _say(self, chat_id: int, key: Msg, language: str | None) -> None:
        """A reply outside the outbox, to someone who may not be registered (a group, an
        edit): losing it in a crash costs nothing that matters."""
        text = html.escape(self._translator.translate(key, language, {}), quote=False)
        try:
            await self._app.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as error:
            log.warning("telegram: could not tell chat %s: %s", chat_id, type(error).__name__)

    # -- sending ------------------------------------------------------------------------

    async def send(
        self, address: str, reply: Reply, language: str | None, key: str = ""
    ) -> str | None:
        """The outbox's transport. Returns ``chat:message`` of the last piece (the one with
        the buttons, and the one a reply to the message is matched by), or None when
        Telegram took it but its answer did not say the message's id."""
        text = render_telegram(self._translator, reply, language)
        markup = (
            InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label, callback_data=_callback_data(i, action))]
                    for i, (label, action) in enumerate(text.buttons, start=1)
                ]
            )
            if text.buttons
            else None
        )
        chat_id = int(address)
        done = self._sent_chunks.get(key, 0)  # a retry does not repeat what went out
        message_id: int | None = None
        last = len(text.chunks) - 1
        for index, chunk in enumerate(text.chunks):
            if index < done:
                continue
            message_id = await self._send_chunk(chat_id, chunk, markup if index == last else None)
            if key:
                self._sent_chunks[key] = index + 1
        self._sent_chunks.pop(key, None)
        return f"{chat_id}:{message_id}" if message_id is not None else None

    async def _send_chunk(
        self, chat_id: int, chunk: str, markup: InlineKeyboardMarkup | None
    ) -> int | None:
        try:
            try:
                return await self._post_message(chat_id, chunk, ParseMode.HTML, markup)
            except BadRequest as error:
                if "parse entities" not in error.message:
                    raise
                # Our rendering is wrong somewhere: the person still gets the words.
                log.error("telegram: HTML refused (%s); sending plain text", error.message)
                return await self._post_message(chat_id, _plain(chunk), None, markup)
        except RetryAfter as error:
            raise RetryLater(timedelta(seconds=_seconds(error))) from error
        except (BadRequest, Forbidden, ChatMigrated) as error:
            # Too long, no such chat, blocked, not in the group: trying again changes
            # nothing. (Network errors, timeouts and 5xx are left to the outbox's retries.)
            log.warning("telegram: chat %s refuses the message: %s", chat_id, error.message)
            raise Undeliverable(error.message) from error

    async def _post_message(
        self, chat_id: int, text: str, parse_mode: str | None, markup: InlineKeyboardMarkup | None
    ) -> int | None:
        """sendMessage, its answer read as JSON rather than as a ``Message``: the message's
        id, or None when Telegram took it and answered in a form that cannot be read (a
        field of another shape than documented). It went out all the same."""
        try:
            result = await self._app.bot.do_api_request(
                "sendMessage",
                api_kwargs={
                    "chat_id": chat_id,
                    "text": text,
                    "parse_mode": parse_mode,
                    "reply_markup": markup,
                    "link_preview_options": _NO_PREVIEW,
                },
            )
        except UnreadableAnswer:
            result = None
        message_id = result.get("message_id") if isinstance(result, dict) else None
        if isinstance(message_id, int) and not isinstance(message_id, bool):
            return message_id
        log.warning("telegram: sent to chat %s; the answer did not say the message's id", chat_id)
        return None
