"""A stand-in for the Telegram Bot API server, for the end-to-end tests and the benchmark.

The real server cannot be reached from the tests, and a mock inside the bot's process would
skip exactly what breaks in production: python-telegram-bot's HTTP stack, its encoding of
parameters, Telegram's refusals (bad HTML, over-long text, oversized callback data, 429s, two
pollers at once). So this is a small HTTP server on 127.0.0.1 that speaks the Bot API's wire
format for the methods the bot uses, validates what Telegram validates, and answers with
Telegram's error shape ``{"ok": false, "error_code": N, "description": "..."}``.

Lengths are counted as Telegram counts them: texts (1-4096) and entity offsets and lengths in
UTF-16 code units after the HTML is parsed, callback data (1-64) in bytes of UTF-8. No method
with a caption is implemented (their limit would be 0-1024 UTF-16 units).

Point python-telegram-bot at it with
``ApplicationBuilder().token(T).base_url(f"{server.url}/bot").base_file_url(f"{server.url}/file/bot")``.

The server runs its own event loop in a daemon thread, so it never depends on the test's loop.
Tests drive it through plain, thread-safe methods: simulated users write (``send``), press
buttons (``press``), and read what the bot sent (``messages``, ``expect``, ``settle``). Every
piece of shared state is guarded by one ``threading.Lock``; long pollers and the webhook
deliverer are woken with ``loop.call_soon_threadsafe``.
"""

import asyncio
import contextlib
import copy
import dataclasses
import functools
import itertools
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from tests.servers.telegram.errors import (
    JSON,
    NOT_MODIFIED,
    POLL_CONFLICT,
    QUERY_INVALID,
    WEBHOOK_CONFLICT,
    ApiError,
    bad,
)
from tests.servers.telegram.html import (
    ENTITY_FIELDS,
    HtmlError,
    check_entities,
    normalize_url,
    parse_html,
    trim,
    utf16_len,
)

BOT_FIRST_NAME = "Helpdesk"
BOT_USERNAME = "helpdesk_test_bot"
MAX_TEXT_UTF16 = 4096
MAX_CALLBACK_DATA_BYTES = 64
LONG_POLL_MAX_SECONDS = 50

# fmt: off
# Updates Telegram does not send when allowed_updates is empty or was never given.
_DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})
_SCOPE_TYPES = frozenset({
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
})
# The fields of which an inline keyboard button must have exactly one.
_BUTTON_ACTIONS = (
    "callback_data", "url", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)
# fmt: on
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LEADING_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,32})?(?![A-Za-z0-9_])")


@dataclass
class SimUser:
    """A person in a Telegram client; their private chat with the bot has the id ``id``."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "en"

    def as_json(self) -> JSON:
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def chat(self) -> JSON:
        chat: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass
class SentMessage:
    """A message the bot sent (as it stands now): what the user sees and what the bot asked for.

    ``text`` is the plain text after HTML parsing (what users read and tests match on),
    ``html`` the raw text as sent, ``history`` the earlier texts when the bot edited it.
    """

    chat_id: int
    message_id: int
    text: str
    html: str
    parse_mode: str | None
    reply_markup: JSON | None
    reply_to_message_id: int | None
    entities: list[JSON] = field(default_factory=list)
    edited: bool = False
    history: list[str] = field(default_factory=list)
    received_at: float = field(default_factory=time.perf_counter)  # for round-trip timing

    @property
    def buttons(self) -> list[tuple[str, str]]:
        return buttons(self)


def buttons(message: SentMessage) -> list[tuple[str, str]]:
    """(text, callback_data) of each inline button, row by row; a URL button gives its URL."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [
        (button["text"], button.get("callback_data", button.get("url", "")))
        for row in rows
        for button in row
    ]


def _snapshot(message: SentMessage) -> SentMessage:
    """A copy for the test thread, so later edits by the server never change it under its feet."""
    return dataclasses.replace(
        message,
        reply_markup=copy.deepcopy(message.reply_markup),
        entities=copy.deepcopy(message.entities),
        history=list(message.history),
    )


# --- request parameters -----------------------------------------------------------------------


class _Params:
    """A call's parameters. Query and form values are strings (python-telegram-bot sends every
    non-string value JSON-encoded), a JSON body's are typed: read each as the method expects."""

    def __init__(self, raw: JSON) -> None:
        self.raw = raw

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value)

    def integer(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int):
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad(f"wrong parameter {name}") from None

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        if isinstance(value, bool) or value is None:
            return bool(value)
        return str(value).strip().lower() in ("true", "1")

    def obj(self, name: str, what: str) -> Any:
        value = self.raw.get(name)
        if not isinstance(value, str):
            return value
        if not value:
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad(f"can't parse {what} JSON object") from None


async def _read_params(request: web.Request) -> JSON:
    """Parameters from the query string and a JSON, urlencoded or multipart body, as Telegram."""
    params: JSON = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad("JSON object expected")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in (await request.post()).items():
            params[key] = value if isinstance(value, str) else f"<upload {key}>"
    return params


# --- the server -------------------------------------------------------------------------------


def _update_chat(update: JSON) -> object:
    """The chat an update belongs to: Telegram keeps one chat's updates in order."""
    for kind in ("message", "edited_message", "channel_post", "my_chat_member"):
        if kind in update:
            return update[kind].get("chat", {}).get("id")
    if "callback_query" in update:
        return update["callback_query"].get("message", {}).get("chat", {}).get("id")
    return None


@dataclass
class _Webhook:
    url: str
    secret: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _Poll:
    """One pending getUpdates; a newer one marks it terminated (Telegram's 409)."""

    terminated: bool = False


class BotApiServer:
    """The Bot API for one bot token, on 127.0.0.1, plus the simulated users that write to it."""

    def __init__(self, token: str) -> None:
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 7_000_000_001
        self.webhook_retry_delay = 0.5
        self._lock = threading.Lock()
        # Everything below is shared with the test thread: touch it only under self._lock.
        self._ids = itertools.count(5_000_001)
        self._query_ids = itertools.count(4_200_000_001)
        self._chats: dict[int, JSON] = {}
        self._history: dict[int, dict[int, JSON]] = {}  # chat -> message id -> Message
        self._last_message_id: Counter[int] = Counter()
        self._sent: dict[int, list[SentMessage]] = {}
        self._unread: dict[int, list[SentMessage]] = {}
        self._blocked: set[int] = set()
        self._deactivated: set[int] = set()
        self._left: set[int] = set()
        self._kicked: set[int] = set()
        self._garbles: dict[str, list[Any]] = {}  # method (lower case) -> [count, body or None]
        self._updates: list[JSON] = []
        self._next_update_id = 100_001
        self._confirmed_offset = 0
        self._allowed_updates: list[str] = []
        self._webhook: _Webhook | None = None
        self._queries: dict[str, JSON] = {}
        self._answered: set[str] = set()
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._failures: dict[str, list[int]] = {}  # method (lower case) -> [count, retry_after]
        self._calls: Counter[str] = Counter()
        self._rejected: list[tuple[str, JSON]] = []
        self._errors: list[tuple[str, int, str]] = []
        self._webhook_attempts: list[tuple[int, int | str]] = []
        self._callback_answers: list[JSON] = []
        self._chat_actions: list[tuple[int, str]] = []
        # Only the server's own thread touches these.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._changed: asyncio.Event | None = None
        self._poller: _Poll | None = None
        self._closing = False
        self._handlers: dict[str, Callable[[_Params], Any]] = {
            "getMe": self._get_me,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "leaveChat": self._leave_chat,
            "sendChatAction": self._send_chat_action,
            "getChat": self._get_chat,
            "close": lambda _: True,
            "logOut": lambda _: True,
        }
        self._method_names = {name.lower(): name for name in [*self._handlers, "getUpdates"]}

    # --- lifecycle ---

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> None:
        """Serve on a free port from a daemon thread with its own event loop."""
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="telegram-bot-api", daemon=True
        )
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError("the Bot API stand-in did not start") from (
                failure[0] if failure else None
            )

    def stop(self) -> None:
        """Answer pending long polls, stop delivering webhooks, close the port."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            runner, delivery = loop.run_until_complete(self._open())
        except BaseException as error:
            failure.append(error)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._close(runner, delivery))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _open(self) -> tuple[web.AppRunner, asyncio.Task[None]]:
        self._changed = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        # A poller that hung up is gone (as for Telegram), not a rival for the next getUpdates.
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        delivery = asyncio.create_task(self._deliver_webhooks(), name="webhook-delivery")
        return runner, delivery

    async def _close(self, runner: web.AppRunner, delivery: asyncio.Task[None]) -> None:
        self._closing = True
        self._notify()  # long pollers return what they have
        delivery.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await delivery
        await runner.cleanup()

    def _notify(self) -> None:
        """On the server loop: wake every long poller and the webhook deliverer to look again."""
        assert self._changed is not None
        self._changed.set()
        self._changed = asyncio.Event()

    def _wake(self) -> None:
        """From any thread: state changed, wake the server loop's waiters."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._notify)

    # --- HTTP ---

    async def _not_found(self, request: web.Request) -> web.Response:
        return ApiError(404, "Not Found").response()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        name = self._method_names.get(request.match_info["method"].lower())
        if name is None:
            return ApiError(404, "Not Found").response()
        params = _Params({})
        try:
            params = _Params(await _read_params(request))
            with self._lock:
                self._calls[name] += 1
                self._take_injected_failure(name)
            if name == "getUpdates":
                result = await self._get_updates(params)
            else:
                with self._lock:
                    result = self._handlers[name](params)
                self._notify()
        except ApiError as error:
            with self._lock:
                self._errors.append((name, error.code, error.description))
                if error.code in (400, 403):
                    self._rejected.append((name, params.raw))
            return error.response()
        with self._lock:
            garbled = self._take_garble(name, result)
        return garbled or web.json_response({"ok": True, "result": result})

    def _take_injected_failure(self, name: str) -> None:
        pending = self._failures.get(name.lower())
        if pending and pending[0] > 0:
            pending[0] -= 1
            raise ApiError(429, f"Too Many Requests: retry after {pending[1]}", pending[1])

    def _take_garble(self, name: str, result: Any) -> web.Response | None:
        """The answer ``garble_next`` asked for, if this call is one of those it counts."""
        pending = self._garbles.get(name.lower())
        if not pending or pending[0] <= 0:
            return None
        pending[0] -= 1
        body: bytes | None = pending[1]
        if body is not None:
            return web.Response(body=body, content_type="application/json")
        date = datetime.now(UTC).isoformat()  # a Unix time in the Bot API
        odd = {**result, "date": date} if isinstance(result, dict) else {"value": result}
        return web.json_response({"ok": True, "result": odd})

    # --- updates ---

    def _enqueue(self, kind: str, payload: JSON) -> None:
        """Queue an update (under the lock), unless allowed_updates excludes its kind: Telegram
        applies allowed_updates when an update is created, not when it is fetched."""
        allowed = set(self._allowed_updates)
        if (allowed and kind not in allowed) or (not allowed and kind in _DEFAULT_EXCLUDED):
            return
        self._updates.append({"update_id": self._next_update_id, kind: copy.deepcopy(payload)})
        self._next_update_id += 1

    def _confirm(self, offset: int) -> None:
        """getUpdates' offset: positive confirms every earlier update; -N keeps the last N."""
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._confirmed_offset = max(self._confirmed_offset, offset)
        elif offset < 0 and self._updates:
            self._updates = self._updates[offset:]
            self._confirmed_offset = max(self._confirmed_offset, self._updates[0]["update_id"])

    def _set_allowed_updates(self, params: _Params) -> None:
        allowed = params.obj("allowed_updates", "allowed updates")
        if allowed is not None:
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise bad("can't parse allowed updates JSON object")
            self._allowed_updates = allowed

    async def _get_updates(self, params: _Params) -> list[JSON]:
        offset = params.integer("offset") or 0
        limit = params.integer("limit")
        limit = 100 if limit is None else min(max(limit, 1), 100)
        timeout = min(max(params.integer("timeout") or 0, 0), LONG_POLL_MAX_SECONDS)
        with self._lock:
            if self._webhook is not None:
                raise ApiError(409, WEBHOOK_CONFLICT)
            self._set_allowed_updates(params)
            self._confirm(offset)
        poll = _Poll()
        if self._poller is not None:
            self._poller.terminated = True
        self._poller = poll
        self._notify()
        assert self._loop is not None
        deadline = self._loop.time() + timeout
        try:
            while True:
                with self._lock:
                    if poll.terminated:
                        raise ApiError(409, POLL_CONFLICT)
                    if self._webhook is not None:
                        raise ApiError(409, WEBHOOK_CONFLICT)
                    batch = copy.deepcopy(self._updates[:limit])
                remaining = deadline - self._loop.time()
                if batch or remaining <= 0 or self._closing:
                    return batch
                assert self._changed is not None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
        finally:
            if self._poller is poll:
                self._poller = None

    # --- webhooks ---

    def _set_webhook(self, params: _Params) -> bool:
        url = params.text("url") or ""
        if not url:
            return self._delete_webhook(params)
        if urlsplit(url).scheme not in ("http", "https"):
            # Telegram demands HTTPS on ports 443/80/88/8443; the stand-in takes plain local HTTP.
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.text("secret_token") or None
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise bad("secret token contains unallowed characters")
        max_connections = params.integer("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise bad("bad webhook: max_connections must be between 1 and 100")
        self._set_allowed_updates(params)
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self._webhook = _Webhook(url, secret, max_connections)
        return True

    def _delete_webhook(self, params: _Params) -> bool:
        self._webhook = None
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: _Params) -> JSON:
        hook = self._webhook
        info: JSON = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
            if hook.last_error_message:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    async def _deliver_webhooks(self) -> None:
        """POST pending updates to the webhook as Telegram does: several at once (up to the
        hook's max_connections), but one chat's updates one at a time, in order. A 2xx
        answer confirms an update; anything else leaves it pending, retried until
        deleteWebhook."""
        in_flight: dict[int, asyncio.Task[None]] = {}  # update_id -> its delivery
        busy: set[object] = set()  # chats with a delivery in flight
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while True:
                changed = self._changed
                assert changed is not None
                with self._lock:
                    hook = self._webhook
                    ready: list[JSON] = []
                    waiting: set[object] = set()
                    for update in self._updates if hook else []:
                        chat = _update_chat(update)
                        if chat in waiting:
                            continue  # an earlier update of this chat goes first
                        waiting.add(chat)
                        if chat in busy or update["update_id"] in in_flight:
                            continue
                        if hook is not None and len(in_flight) + len(ready) >= hook.max_connections:
                            break
                        ready.append(copy.deepcopy(update))
                if hook is not None:
                    for update in ready:
                        chat = _update_chat(update)
                        busy.add(chat)
                        task = asyncio.create_task(self._post_update(session, hook, update))
                        in_flight[update["update_id"]] = task
                        task.add_done_callback(
                            functools.partial(self._delivered, in_flight, busy, update, chat)
                        )
                if not ready:
                    await changed.wait()

    def _delivered(
        self,
        in_flight: dict[int, "asyncio.Task[None]"],
        busy: set[object],
        update: JSON,
        chat: object,
        _task: "asyncio.Task[None]",
    ) -> None:
        in_flight.pop(update["update_id"], None)
        busy.discard(chat)
        self._notify()  # the chat's next update, or a free connection, may go now

    async def _post_update(self, session: ClientSession, hook: "_Webhook", update: JSON) -> None:
        headers = {"Content-Type": "application/json"}
        if hook.secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret
        outcome: int | str
        try:
            async with session.post(hook.url, data=json.dumps(update), headers=headers) as r:
                outcome = r.status
                error = f"Wrong response from the webhook: {r.status} {r.reason}"
        except (ClientError, TimeoutError, OSError) as failure:
            outcome = error = f"Connection failed: {type(failure).__name__}: {failure}"
        delivered = isinstance(outcome, int) and 200 <= outcome < 300
        with self._lock:
            self._webhook_attempts.append((update["update_id"], outcome))
            if delivered:
                self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
            else:
                hook.last_error_date = int(time.time())
                hook.last_error_message = error
        if not delivered:
            await asyncio.sleep(self.webhook_retry_delay)

    # --- chats and messages (all called under the lock) ---

    def _me(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }

    def _get_me(self, params: _Params) -> JSON:
        return {
            **self._me(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _known_chat(self, params: _Params) -> JSON:
        raw = params.raw.get("chat_id")
        if raw is None or raw == "":
            raise bad("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad("chat not found") from None  # an @username no stand-in chat has
        chat = self._chats.get(chat_id)
        if chat is None:
            raise bad("chat not found")
        return chat

    def _writable_chat(self, params: _Params) -> JSON:
        chat = self._known_chat(params)
        if chat["id"] in self._deactivated:
            raise ApiError(403, "Forbidden: user is deactivated")
        if chat["id"] in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat["id"] in self._kicked:
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")
        if chat["id"] in self._left:
            raise ApiError(403, "Forbidden: bot is not a member of the group chat")
        return chat

    def _new_message(self, chat: JSON, sender: JSON) -> JSON:
        self._last_message_id[chat["id"]] += 1
        message: JSON = {
            "message_id": self._last_message_id[chat["id"]],
            "from": sender,
            "chat": dict(chat),
            "date": int(time.time()),
        }
        self._history.setdefault(chat["id"], {})[message["message_id"]] = message
        return message

    def _stored(self, chat_id: int, message_id: int | None) -> JSON | None:
        return self._history.get(chat_id, {}).get(message_id or 0)

    @staticmethod
    def _quoted(message: JSON) -> JSON:
        """A message as reply_to_message carries it: Telegram does not nest replies further."""
        return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}

    def _formatted(self, params: _Params) -> tuple[str, list[JSON], str]:
        """Plain text, entities and raw text of a message, validated as Telegram does."""
        raw = params.text("text") or ""
        mode = (params.text("parse_mode") or "").strip()
        if mode.lower() == "html":
            try:
                text, entities = parse_html(raw)
            except HtmlError as error:
                raise bad(f"can't parse entities: {error}") from None
        elif mode.lower() in ("markdown", "markdownv2"):
            raise bad(f"can't parse entities: the stand-in does not parse {mode}; use HTML")
        elif mode:
            raise bad("unsupported parse_mode")
        else:
            given = params.obj("entities", "message entities")
            if given is not None and not (
                isinstance(given, list)
                and all(isinstance(e, dict) and e.keys() >= ENTITY_FIELDS for e in given)
            ):
                raise bad("can't parse message entities JSON object")
            text, entities = raw, list(given or [])
            check_entities(text, entities)
        text, entities = trim(text, entities)
        if not text:
            raise bad("message text is empty")
        if utf16_len(text) > MAX_TEXT_UTF16:
            raise bad("message is too long")
        return text, entities, raw

    def _markup(self, params: _Params, *, inline_only: bool = False) -> JSON | None:
        """The inline keyboard to store on the message (other keyboards are accepted, not kept)."""
        markup = params.obj("reply_markup", "reply keyboard markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if inline_only or not {"keyboard", "remove_keyboard", "force_reply"} & set(markup):
                raise bad("can't parse inline keyboard markup JSON object")
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
        for row in rows:
            for button in row:
                _check_button(button)
        return {"inline_keyboard": copy.deepcopy(rows)}

    def _reply_target(self, params: _Params, chat_id: int) -> JSON | None:
        reply = params.obj("reply_parameters", "reply parameters")
        if reply is None and params.integer("reply_to_message_id") is not None:
            reply = {
                "message_id": params.integer("reply_to_message_id"),
                "allow_sending_without_reply": params.flag("allow_sending_without_reply"),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict):
            raise bad("can't parse reply parameters JSON object")
        target = self._stored(chat_id, reply.get("message_id"))
        if target is None and not reply.get("allow_sending_without_reply"):
            raise bad("message to be replied not found")
        return target

    def _record(self, message: JSON, html: str, parse_mode: str | None) -> SentMessage:
        chat_id = message["chat"]["id"]
        sent = SentMessage(
            chat_id=chat_id,
            message_id=message["message_id"],
            text=message["text"],
            html=html,
            parse_mode=parse_mode,
            reply_markup=copy.deepcopy(message.get("reply_markup")),
            reply_to_message_id=message.get("reply_to_message", {}).get("message_id"),
            entities=copy.deepcopy(message.get("entities", [])),
        )
        self._sent.setdefault(chat_id, []).append(sent)
        self._unread.setdefault(chat_id, []).append(sent)
        return sent

    def _send_message(self, params: _Params) -> JSON:
        chat = self._writable_chat(params)
        text, entities, html = self._formatted(params)
        markup = self._markup(params)
        target = self._reply_target(params, chat["id"])
        link_preview = params.obj("link_preview_options", "link preview options")
        if link_preview is not None and not isinstance(link_preview, dict):
            raise bad("can't parse link preview options JSON object")
        message = self._new_message(chat, self._me())
        message["text"] = text
        if entities:
            message["entities"] = entities
        if markup:
            message["reply_markup"] = markup
        if target is not None:
            message["reply_to_message"] = self._quoted(target)
        self._record(message, html, params.text("parse_mode"))
        return copy.deepcopy(message)

    def _editable(self, params: _Params) -> tuple[JSON, SentMessage]:
        if params.raw.get("inline_message_id"):
            raise bad("the stand-in does not support inline messages")
        chat = self._known_chat(params)
        message = self._stored(chat["id"], params.integer("message_id"))
        if message is None:
            raise bad("message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise bad("message can't be edited")
        record = next(s for s in self._sent[chat["id"]] if s.message_id == message["message_id"])
        return message, record

    def _edited(self, message: JSON, record: SentMessage) -> JSON:
        message["edit_date"] = int(time.time())
        record.edited = True
        record.reply_markup = copy.deepcopy(message.get("reply_markup"))
        unread = self._unread.setdefault(record.chat_id, [])
        if not any(r is record for r in unread):  # an edit is news to whoever reads the chat
            unread.append(record)
        return copy.deepcopy(message)

    def _edit_message_text(self, params: _Params) -> JSON:
        message, record = self._editable(params)
        text, entities, html = self._formatted(params)
        markup = self._markup(params, inline_only=True)
        if (
            text == message["text"]
            and entities == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise ApiError(400, NOT_MODIFIED)
        message["text"] = text
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        message.pop("reply_markup", None)  # editing without reply_markup removes the keyboard
        if markup:
            message["reply_markup"] = markup
        record.history.append(record.text)
        record.text, record.html, record.entities = text, html, copy.deepcopy(entities)
        record.parse_mode = params.text("parse_mode")
        return self._edited(message, record)

    def _edit_message_reply_markup(self, params: _Params) -> JSON:
        message, record = self._editable(params)
        markup = self._markup(params, inline_only=True)
        if markup == message.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        return self._edited(message, record)

    def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        if query_id not in self._queries or query_id in self._answered:
            raise bad(QUERY_INVALID.removeprefix("Bad Request: "))
        self._answered.add(query_id)
        self._callback_answers.append(
            {
                "callback_query_id": query_id,
                "text": params.text("text"),
                "show_alert": params.flag("show_alert"),
                "url": params.text("url"),
            }
        )
        return True

    @staticmethod
    def _commands_key(params: _Params) -> tuple[str, str]:
        scope = params.obj("scope", "bot command scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
            raise bad("unsupported bot command scope type")
        return json.dumps(scope, sort_keys=True), params.text("language_code") or ""

    def _set_my_commands(self, params: _Params) -> bool:
        commands = params.obj("commands", "commands")
        if not isinstance(commands, list):
            raise bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict):
                raise bad("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND.fullmatch(name):
                raise bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        clean = [{"command": c["command"], "description": c["description"]} for c in commands]
        self._commands[self._commands_key(params)] = clean
        return True

    def _get_my_commands(self, params: _Params) -> list[JSON]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _delete_my_commands(self, params: _Params) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _leave_chat(self, params: _Params) -> bool:
        chat = self._known_chat(params)
        if chat["type"] == "private":
            raise bad("chat member status can't be changed in private chats")
        self._left.add(chat["id"])
        return True

    def _send_chat_action(self, params: _Params) -> bool:
        chat = self._writable_chat(params)
        action = params.text("action") or ""
        if action not in _CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        self._chat_actions.append((chat["id"], action))
        return True

    def _get_chat(self, params: _Params) -> JSON:
        chat = self._known_chat(params)
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {**dict.fromkeys(gifts, True), "gifts_from_channels": True},
        }

    # --- control API for tests (any thread) ---

    def user(
        self, first_name: str, language_code: str | None = "en", username: str | None = None
    ) -> SimUser:
        """A new person; the bot may write to their private chat (id == user id) at once."""
        with self._lock:
            person = SimUser(next(self._ids), first_name, username, language_code)
            self._chats[person.id] = person.chat
        return person

    def group(self, title: str) -> JSON:
        """A new group chat for ``send(..., chat=...)``."""
        with self._lock:
            chat: JSON = {"id": -next(self._ids), "type": "group", "title": title}
            self._chats[chat["id"]] = chat
        return dict(chat)

    def _chat_of(self, user: SimUser, chat: JSON | None) -> JSON:
        if chat is None:
            return self._chats.setdefault(user.id, user.chat)
        return self._chats.setdefault(chat["id"], dict(chat))

    def _user_message(self, user: SimUser, chat: JSON | None) -> JSON:
        if chat is None:
            self._blocked.discard(user.id)  # writing to a bot unblocks it
        return self._new_message(self._chat_of(user, chat), user.as_json())

    def _deliver(self, kind: str, message: JSON) -> None:
        """A user's message reaches the bot unless the bot left that group or was removed."""
        if message["chat"]["id"] not in self._left | self._kicked:
            self._enqueue(kind, message)

    def send(
        self, user: SimUser, text: str, *, reply_to: int | None = None, chat: JSON | None = None
    ) -> int:
        """The user writes ``text`` (in their private chat unless ``chat`` is given); returns the
        message id. A leading /command gets its bot_command entity, as clients send it."""
        with self._lock:
            target = None
            chat_id = chat["id"] if chat else user.id
            if reply_to is not None:
                target = self._stored(chat_id, reply_to)
                if target is None:
                    raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
            message = self._user_message(user, chat)
            message["text"] = text
            command = _LEADING_COMMAND.match(text)
            if command:
                length = utf16_len(command.group())
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            if target is not None:
                message["reply_to_message"] = self._quoted(target)
            self._deliver("message", message)
        self._wake()
        return int(message["message_id"])

    def send_non_text(
        self, user: SimUser, kind: str = "sticker", *, chat: JSON | None = None
    ) -> int:
        """A message without text: a sticker, photo, voice note or document."""
        file = {"file_id": f"{kind}-{user.id}", "file_unique_id": f"u-{kind}-{user.id}"}
        payloads: dict[str, Any] = {
            "sticker": {
                **file,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
            },
            "photo": [{**file, "width": 320, "height": 240, "file_size": 9000}],
            "voice": {**file, "duration": 3, "mime_type": "audio/ogg"},
            "document": {**file, "file_name": "report.pdf", "mime_type": "application/pdf"},
        }
        if kind not in payloads:
            raise ValueError(f"unknown kind {kind!r}; one of {sorted(payloads)}")
        with self._lock:
            message = self._user_message(user, chat)
            message[kind] = payloads[kind]
            self._deliver("message", message)
        self._wake()
        return int(message["message_id"])

    def send_edited(
        self, user: SimUser, message_id: int, text: str, *, chat: JSON | None = None
    ) -> None:
        """The user edits an earlier message of theirs (an ``edited_message`` update)."""
        with self._lock:
            message = self._stored(chat["id"] if chat else user.id, message_id)
            if message is None or message["from"]["id"] != user.id:
                raise ValueError(f"{user.first_name} wrote no message {message_id}")
            message["text"] = text
            message["edit_date"] = int(time.time())
            self._deliver("edited_message", message)
        self._wake()

    def press(self, user: SimUser, message_id: int, data: str, *, chat: JSON | None = None) -> str:
        """The user presses a button of the bot's message ``message_id``; returns the query id.
        Any ``data`` is allowed: a modified client can send data no button carries."""
        with self._lock:
            chat_id = chat["id"] if chat else user.id
            message = self._stored(chat_id, message_id)
            if message is None or message["from"]["id"] != self.bot_id:
                raise ValueError(f"the bot sent no message {message_id} to chat {chat_id}")
            query_id = str(next(self._query_ids))
            query = {
                "id": query_id,
                "from": user.as_json(),
                "message": copy.deepcopy(message),
                "chat_instance": str(abs(chat_id) * 31 + 7),
                "data": data,
            }
            self._queries[query_id] = query
            self._enqueue("callback_query", query)
        self._wake()
        return query_id

    def block(self, user: SimUser) -> None:
        """The user blocks the bot: sending to them fails with 403 until they write again."""
        with self._lock:
            self._blocked.add(user.id)

    def deactivate(self, user: SimUser) -> None:
        """The user deletes their account: sending to them fails with 403 from now on."""
        with self._lock:
            self._deactivated.add(user.id)

    def kick(self, chat: JSON) -> None:
        """A member removes the bot from a group: it gets nothing from there and sending to
        it fails with 403."""
        with self._lock:
            self._kicked.add(chat["id"])

    def garble_next(self, method: str, count: int = 1, body: bytes | None = None) -> None:
        """The next ``count`` successful calls of ``method`` do what they do (a message is sent)
        but answer in a form the Bot API never uses: HTTP 200, ``ok`` true and a result whose
        ``date`` is an ISO-8601 string rather than a Unix time (as an emulator did that
        reviewers used), or, given ``body``, that as the whole answer."""
        with self._lock:
            self._garbles[method.lower()] = [count, body]

    def messages(self, chat_id: int) -> list[SentMessage]:
        """Everything the bot sent to the chat, oldest first, as it stands now."""
        with self._lock:
            return [_snapshot(m) for m in self._sent.get(chat_id, [])]

    def _take_unread(self, chat_id: int, words: str | None) -> SentMessage | None:
        with self._lock:
            unread = self._unread.get(chat_id, [])
            for message in unread:
                if words is None or words in message.text:
                    unread.remove(message)
                    return _snapshot(message)
        return None

    async def expect(self, chat_id: int, words: str, within: float = 30.0) -> SentMessage:
        """The next not-yet-consumed bot message in the chat whose plain text contains ``words``
        (others stay for later); fails listing what arrived instead."""
        deadline = time.monotonic() + within
        while True:
            found = self._take_unread(chat_id, words)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                with self._lock:
                    got = [m.text[:120] for m in self._unread.get(chat_id, [])]
                raise AssertionError(f"no message with {words!r} in chat {chat_id}; got {got}")
            await asyncio.sleep(0.05)

    async def settle(self, chat_id: int, seconds: float = 1.0) -> list[SentMessage]:
        """Every not-yet-consumed bot message in the chat, after waiting ``seconds``."""
        await asyncio.sleep(seconds)
        found: list[SentMessage] = []
        while (message := self._take_unread(chat_id, None)) is not None:
            found.append(message)
        return found

    def fail_next(self, method: str, count: int = 1, retry_after: int = 1) -> None:
        """The next ``count`` calls of ``method`` answer 429 Too Many Requests, doing nothing."""
        with self._lock:
            self._failures[method.lower()] = [count, retry_after]

    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed (by an offset or a webhook's 2xx)."""
        with self._lock:
            return len(self._updates)

    @property
    def confirmed_offset(self) -> int:
        """The highest offset the bot confirmed with (update ids below it are gone)."""
        with self._lock:
            return self._confirmed_offset

    @property
    def calls(self) -> Counter[str]:
        """Method name -> number of calls (injected 429s and refused calls included; 0 for a
        method never called)."""
        with self._lock:
            return Counter(self._calls)

    @property
    def rejected(self) -> list[tuple[str, JSON]]:
        """(method, params) of every call refused with 400 or 403: invalid requests."""
        with self._lock:
            return copy.deepcopy(self._rejected)

    @property
    def errors(self) -> list[tuple[str, int, str]]:
        """(method, error_code, description) of every refused call, 409s and 429s included."""
        with self._lock:
            return list(self._errors)

    @property
    def webhook_attempts(self) -> list[tuple[int, int | str]]:
        """(update_id, HTTP status or error text) of every webhook delivery attempt."""
        with self._lock:
            return list(self._webhook_attempts)

    @property
    def callback_answers(self) -> list[JSON]:
        with self._lock:
            return copy.deepcopy(self._callback_answers)

    @property
    def chat_actions(self) -> list[tuple[int, str]]:
        with self._lock:
            return list(self._chat_actions)

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The commands set for a scope (default scope unless given) and language."""
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        with self._lock:
            return copy.deepcopy(self._commands.get(key, []))


def _check_button(button: object) -> None:
    """An inline button needs text and exactly one action; callback data is 1-64 bytes."""
    if not isinstance(button, dict):
        raise bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad('can\'t parse inline keyboard button: Field "text" must be of type String')
    actions = [name for name in _BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad(f"can't parse inline keyboard button: more than one action: {actions}")
    data = button.get("callback_data")
    if "callback_data" in button and (
        not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
    ):
        raise bad("BUTTON_DATA_INVALID")
    if "url" in button and (
        not isinstance(button["url"], str) or normalize_url(button["url"]) is None
    ):
        raise bad("BUTTON_URL_INVALID")
