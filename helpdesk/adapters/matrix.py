"""The Matrix adapter: direct chats with the bot through matrix-nio, encrypted or not.

What it gets right, because Matrix bots often do not:

- nio returns errors instead of raising them: every response is checked, and a failed
  sync or send raises, so that it is retried (sync with the exponential backoff and
  jitter of ``helpdesk.adapters.contract``, sends through the outbox's retries). A send
  the homeserver refuses for good (too large, a person no chat can be opened with) raises
  ``Undeliverable``, a flood limit ``RetryLater``: the outbox keeps the one as failed and
  waits as told for the other.
- The first sync of every run asks for the full state of every joined room, so that after
  a restart the bot can write first, also in encrypted chats (nio must know the members),
  to people who have not written since; a person's chat that is gone or that they left is
  replaced by a new one.
- The sync position is saved only after the messages of a batch were handled, and the
  core records every handled event id, so a crash or restart answers each message that
  arrived meanwhile exactly once; on the very first start the backlog is not answered.
- Encrypted direct chats work (matrix-nio[e2e]); a message that cannot be decrypted gets a
  clear reply saying what to do, never silence.
- The bot's own events are skipped; group rooms get a polite refusal and are left.
"""

import asyncio
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    InviteMemberEvent,
    JoinError,
    LocalProtocolError,
    LoginError,
    MegolmEvent,
    MessageDirection,
    ReactionEvent,
    RoomCreateError,
    RoomMessage,
    RoomMessageNotice,
    RoomMessagesResponse,
    RoomMessageText,
    RoomPreset,
    RoomSendError,
    SyncError,
    SyncResponse,
    WhoamiError,
)

from helpdesk.adapters.contract import (
    HANDLED_AT_ONCE,
    Handler,
    Inbound,
    Misconfigured,
    RetryLater,
    Unavailable,
    Undeliverable,
)
from helpdesk.adapters.rich_text import render_rich
from helpdesk.i18n import Msg, Reply, Translator

__all__ = ["PLATFORM", "MatrixAdapter", "MatrixSettings", "MatrixUnavailable"]

log = logging.getLogger(__name__)

PLATFORM = "matrix"
_SYNC_TIMEOUT_MS = 30_000
_OUTBOX_KEY = "org.helpdesk.outbox"  # in each message: which outbox item it delivers
_HISTORY = 50  # recent messages searched for an earlier run's sends
_GAP_PAGES = 100  # of 100 events: how far back a limited sync is filled in
# nio retries a lost connection and a flood limit itself, by default without end, which
# would hold the outbox (every platform's) inside one send: a few quick tries, then the
# sync loop's backoff or the outbox's retries take over.
_CONNECTION_TRIES = 2
_FLOOD_WAIT = timedelta(seconds=5)  # when the homeserver does not say how long
# Refusals that the same request meets again: malformed, too large, forbidden, not found...
_REFUSED_STATUSES = frozenset({400, 403, 404, 413})
_REFUSED_CODES = frozenset({"M_TOO_LARGE", "M_BAD_JSON", "M_NOT_JSON", "M_INVALID_PARAM"})
# ...except those about the bot's own account: they end when an admin acts, and every
# message waits for that rather than failing one by one.
_ACCOUNT_REFUSALS = frozenset(
    {
        "M_UNKNOWN_TOKEN",
        "M_MISSING_TOKEN",
        "M_USER_DEACTIVATED",
        "M_USER_LOCKED",
        "M_USER_SUSPENDED",
        "M_RESOURCE_LIMIT_EXCEEDED",
        "M_CONSENT_NOT_GIVEN",
    }
)


class MatrixUnavailable(Unavailable):
    """The homeserver did not answer as it should; the call is worth retrying later."""


class NotInRoom(MatrixUnavailable):
    """The homeserver refused a send to a room: the bot is no longer in it (or may not
    write there)."""


@dataclass(frozen=True)
class MatrixSettings:
    homeserver: str
    user_id: str
    store_path: Path
    password: str | None = None
    access_token: str | None = None
    device_name: str = "helpdesk-bot"


@dataclass
class _State:
    """What must survive a restart, besides nio's encryption store."""

    device_id: str | None = None
    access_token: str | None = None
    next_batch: str | None = None
    rooms: dict[str, str] = field(default_factory=dict)  # user id → direct chat room id

    @classmethod
    def load(cls, path: Path) -> "_State":
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def save(self, path: Path) -> None:
        # Written aside then renamed: a crash never leaves half a file. It holds the access
        # token, so only the bot's user may read it.
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self)), encoding="utf-8")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)


def _check(response: Any, what: str) -> Any:
    """nio reports failures as ErrorResponse objects: make them exceptions."""
    if isinstance(response, ErrorResponse):
        raise MatrixUnavailable(f"{what}: {response.status_code or ''} {response.message}")
    return response


def _refusal(response: ErrorResponse, what: str) -> Exception:
    """What the outbox should make of a refused send: wait as told (a flood limit), keep it
    as failed (a refusal that retrying will not change), or try again later. The reason is
    the homeserver's, never the message's text."""
    code = response.status_code or ""
    status = getattr(response.transport_response, "status", None)
    reason = f"{what}: {code or status or ''} {response.message}"
    if code == "M_LIMIT_EXCEEDED" or status == 429:
        wait = response.retry_after_ms
        return RetryLater(timedelta(milliseconds=wait) if wait else _FLOOD_WAIT)
    if code not in _ACCOUNT_REFUSALS and (status in _REFUSED_STATUSES or code in _REFUSED_CODES):
        return Undeliverable(reason)
    return MatrixUnavailable(reason)


def _without_reply_fallback(body: str) -> str:
    """A Matrix reply quotes the message it answers as "> " lines first: drop them."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).strip()


def _replied_to(event: RoomMessage) -> str | None:
    relates = event.source.get("content", {}).get("m.relates_to", {})
    replied = relates.get("m.in_reply_to", {}) if isinstance(relates, dict) else {}
    event_id = replied.get("event_id") if isinstance(replied, dict) else None
    return event_id if isinstance(event_id, str) else None


class MatrixAdapter:
    """Receives through sync, sends as the outbox's transport for platform ``matrix``."""

    platform = PLATFORM

    def __init__(self, settings: MatrixSettings, translator: Translator, handle: Handler) -> None:
        self.settings = settings
        self._translator = translator
        self._handle = handle
        settings.store_path.mkdir(parents=True, exist_ok=True)
        self._state_path = settings.store_path / "state.json"
        self._state = _State.load(self._state_path)
        self._client: AsyncClient | None = None
        self._groups_to_leave: set[str] = set()
        self._synced = False  # in this run: nio knows the rooms only after a sync
        self._opened: set[str] = set()  # chats opened in this run (nio knows them after a sync)
        self._sent_keys: dict[str, dict[str, str]] = {}  # room → outbox key → event id
        self._handling = asyncio.Semaphore(HANDLED_AT_ONCE)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Log in (or resume the saved session) and load the encryption store."""
        settings = self.settings
        config = AsyncClientConfig(
            encryption_enabled=True,
            store_sync_tokens=False,
            max_limit_exceeded=0,
            max_timeouts=_CONNECTION_TRIES,
        )
        client = AsyncClient(
            settings.homeserver,
            settings.user_id,
            device_id=self._state.device_id,
            store_path=str(settings.store_path),
            config=config,
        )
        token = self._state.access_token or settings.access_token
        if token and self._state.device_id:
            client.restore_login(settings.user_id, self._state.device_id, token)
        elif token:
            client.access_token = token
            whoami = await client.whoami()
            if isinstance(whoami, WhoamiError) or not whoami.device_id:
                await client.close()
                raise MatrixUnavailable(f"access token refused: {whoami}")
            client.restore_login(settings.user_id, whoami.device_id, token)
            self._state.device_id, self._state.access_token = whoami.device_id, token
        elif settings.password:
            login = await client.login(settings.password, device_name=settings.device_name)
            if isinstance(login, LoginError):
                await client.close()
                raise MatrixUnavailable(f"login failed: {login.message}")
            self._state.device_id, self._state.access_token = login.device_id, login.access_token
        else:
            await client.close()
            raise Misconfigured(
                "Matrix needs HELPDESK_MATRIX_PASSWORD or HELPDESK_MATRIX_ACCESS_TOKEN"
            )
        self._state.save(self._state_path)
        self._client = client
        log.info("matrix: logged in as %s (device %s)", settings.user_id, client.device_id)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def retryable(self, error: Exception) -> bool:
        """Failures of the link or of the homeserver (aiohttp and nio raise many kinds)."""
        if isinstance(error, Unavailable | OSError | TimeoutError):
            return True
        return type(error).__module__.split(".")[0] in ("aiohttp", "nio")

    @property
    def ready(self) -> bool:
        """Until the first sync of a run nio knows no room: sending must wait for it."""
        return self._synced

    # -- receiving ----------------------------------------------------------------------

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            raise MatrixUnavailable("not connected")
        return self._client

    async def serve_once(self, stop: asyncio.Event) -> None:
        """One sync: what arrived since the saved position, handled, then the position saved."""
        client = self.client
        first_start = self._state.next_batch is None
        response = await client.sync(
            # The first sync of a run returns at once: sends wait for it.
            timeout=_SYNC_TIMEOUT_MS if self._synced else 0,
            since=self._state.next_batch,
            # nio keeps no rooms across runs: from the saved position alone it would learn
            # only of rooms with new events, and could not write first to anyone else.
            # With full state every joined room comes with its state (members, encryption),
            # while the timeline still starts at the saved position.
            full_state=not self._synced,
        )
        if isinstance(response, SyncError):
            raise MatrixUnavailable(f"sync: {response.status_code or ''} {response.message}")
        await self._keep_keys()
        await self._leave_groups()
        await self._join_invites(response)
        if not first_start:  # the backlog of the very first start is not answered
            await self._handle_timeline(response, since=self._state.next_batch)
        self._state.next_batch = response.next_batch
        self._state.save(self._state_path)
        self._synced = True

    async def _keep_keys(self) -> None:
        """What nio's sync_forever does between syncs: one-time keys and device lists."""
        client = self.client
        for response in await client.send_to_device_messages():
            _check(response, "to-device message")
        if client.should_upload_keys:
            _check(await client.keys_upload(), "keys upload")
        if client.should_query_keys:
            _check(await client.keys_query(), "keys query")
        if client.should_claim_keys:
            _check(await client.keys_claim(client.get_users_for_key_claiming()), "keys claim")

    async def _join_invites(self, response: SyncResponse) -> None:
        client = self.client
        for room_id, info in response.rooms.invite.items():
            direct = any(
                isinstance(e, InviteMemberEvent)
                and e.state_key == client.user_id
                and e.content.get("is_direct") is True
                for e in info.invite_state
            )
            joined = await client.join(room_id)
            if isinstance(joined, JoinError):
                log.warning("matrix: could not join %s: %s", room_id, joined.message)
                continue
            if not direct:
                # nio knows the room only after the next sync: refuse then.
                self._groups_to_leave.add(room_id)

    async def _leave_groups(self) -> None:
        for room_id in list(self._groups_to_leave):
            if room_id in self.client.rooms:
                await self._refuse_group(room_id)

    async def _refuse_group(self, room_id: str) -> None:
        self._groups_to_leave.discard(room_id)
        rich = render_rich(self._translator, Reply.say(Msg.GROUP_REFUSED), None)
        try:
            await self._send_to_room(room_id, rich.plain, rich.html)
        except (MatrixUnavailable, Undeliverable, RetryLater) as error:
            log.warning("matrix: could not tell group room %s why I leave: %s", room_id, error)
        await self.client.room_leave(room_id)

    async def _gap(self, room_id: str, prev_batch: str | None, since: str | None) -> list[Any]:
        """The events a limited sync left out (more arrived than its timeline holds: a
        burst, or a bot that was down), oldest first. Without them they would be lost."""
        missed: list[Any] = []
        token = prev_batch
        for _ in range(_GAP_PAGES):
            if not token:
                break
            page = await self.client.room_messages(
                room_id, start=token, end=since, direction=MessageDirection.back, limit=100
            )
            if not isinstance(page, RoomMessagesResponse):
                raise MatrixUnavailable(f"history of {room_id}: {page.message}")
            missed.extend(page.chunk)  # newest first
            if not page.chunk or not page.end or page.end == token:
                break
            token = page.end
        else:
            log.warning("matrix: more than %d missed events in %s", _GAP_PAGES * 100, room_id)
        missed.reverse()
        return missed

    async def _handle_timeline(self, response: SyncResponse, since: str | None) -> None:
        # Rooms (one per person) are handled at once, each room's events in order: one
        # slow question does not hold up everyone else's. The position is saved after
        # all of them, so a crash has the next sync bring them again.
        rooms = list(response.rooms.join.items())
        outcomes = await asyncio.gather(
            *(self._handle_room(room_id, info, since) for room_id, info in rooms),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _handle_room(self, room_id: str, info: Any, since: str | None) -> None:
        client = self.client
        room = client.rooms.get(room_id)
        events = list(info.timeline.events)
        if info.timeline.limited:
            events = await self._gap(room_id, info.timeline.prev_batch, since) + events
        for event in events:
            sender = getattr(event, "sender", None)
            if sender is None or sender == client.user_id:
                continue
            inbound = self._inbound(event, sender, room.user_name(sender) if room else None)
            if inbound is None:
                continue
            if room is not None and room.member_count > 2:
                await self._refuse_group(room_id)
                break
            if sender not in self._state.rooms or self._state.rooms[sender] != room_id:
                self._state.rooms[sender] = room_id
            if isinstance(event, MegolmEvent):
                await self._ask_for_key(event)
            async with self._handling:
                await self._handle(inbound)

    def _inbound(self, event: Any, sender: str, name: str | None) -> Inbound | None:
        common = {
            "platform": PLATFORM,
            "address": sender,
            "message_id": event.event_id,
            "display_name": name,
        }
        if isinstance(event, RoomMessageNotice):
            return None  # notices are what bots send: answering them makes loops
        if isinstance(event, RoomMessageText):
            reply_to = _replied_to(event)
            body = _without_reply_fallback(event.body) if reply_to else event.body
            return Inbound(text=body, reply_to=reply_to, **common)
        if isinstance(event, ReactionEvent):
            return Inbound(text=None, reaction=event.key, reply_to=event.reacts_to, **common)
        if isinstance(event, MegolmEvent):
            return Inbound(text=None, undecryptable=True, **common)
        if isinstance(event, RoomMessage):  # images, files, locations...
            return Inbound(text=None, **common)
        return None

    async def _ask_for_key(self, event: MegolmEvent) -> None:
        try:
            response = await self.client.request_room_key(event)
            if isinstance(response, ErrorResponse):
                log.info("matrix: room key request failed: %s", response.message)
        except Exception as error:  # nio raises if a request is already pending
            log.info("matrix: room key not requested: %s", error)

    # -- sending ------------------------------------------------------------------------

    async def send(self, address: str, reply: Reply, language: str | None, key: str = "") -> str:
        """The outbox's transport: render, find or open the direct chat, send. ``key`` is the
        outbox item: the transaction id, and a marker found again after a crash, so that a
        reply interrupted by one is never sent twice."""
        if not self._synced:
            # The relay asks ``ready`` first; this guards other callers: waiting is better
            # than opening a second chat with someone whose room nio does not know yet.
            raise MatrixUnavailable("not synced yet")
        rich = render_rich(self._translator, reply, language)
        try:
            return await self._deliver(address, rich.plain, rich.html, key)
        except (ClientError, TimeoutError) as error:  # the homeserver is out of reach
            raise MatrixUnavailable(f"send: {type(error).__name__}") from error

    async def _deliver(self, address: str, plain: str, html: str, key: str) -> str:
        room_id = self._chat_with(address) or await self._open_direct_chat(address)
        try:
            earlier = await self._sent_before(room_id, key) if key else None
            if earlier is not None:
                return earlier
            event_id = await self._send_to_room(room_id, plain, html, key or None)
        except NotInRoom as refused:
            if room_id in self._opened:
                # Even the chat opened in this run to replace theirs refuses.
                raise Undeliverable(str(refused)) from refused
            # Removed from the chat since the last sync: a new one, used on the next try
            # (once a sync made it known to nio).
            await self._open_direct_chat(address)
            raise
        if key:
            self._sent_keys.setdefault(room_id, {})[key] = event_id
        return event_id

    def _chat_with(self, address: str) -> str | None:
        """The saved direct chat with ``address`` if a message there reaches them: nio knows
        it (the first sync of a run brings every joined room) and they are still in it
        (joined or invited); or a chat opened in this run, which the next sync brings."""
        room_id = self._state.rooms.get(address)
        if room_id is None:
            return None
        room = self.client.rooms.get(room_id)
        if room is None:  # the bot left it, or was removed, or it is brand new
            return room_id if room_id in self._opened else None
        return room_id if address in room.users else None  # they left, or were deactivated

    async def _sent_before(self, room_id: str, key: str) -> str | None:
        """The event that an earlier run of the bot already sent for this outbox item.

        A crash between sending and recording it leaves the item pending. Homeservers
        deduplicate transaction ids only for a while and not across every failure, so each
        message carries its outbox key, and the first send to a room after a start looks
        at the room's recent messages for it.
        """
        if room_id not in self._sent_keys:
            found: dict[str, str] = {}
            history = await self.client.room_messages(room_id, limit=_HISTORY)
            if isinstance(history, ErrorResponse):
                if history.status_code == "M_FORBIDDEN":
                    raise NotInRoom(f"room history: M_FORBIDDEN {history.message}")
                raise _refusal(history, "room history")
            for event in history.chunk:
                if getattr(event, "sender", None) != self.client.user_id:
                    continue
                marker = event.source.get("content", {}).get(_OUTBOX_KEY)
                if isinstance(marker, str):
                    found[marker] = event.event_id
            self._sent_keys[room_id] = found
        return self._sent_keys[room_id].get(key)

    async def _open_direct_chat(self, address: str) -> str:
        created = await self.client.room_create(
            is_direct=True, invite=[address], preset=RoomPreset.trusted_private_chat
        )
        if isinstance(created, RoomCreateError):
            # E.g. M_FORBIDDEN: their homeserver is one ours does not federate with.
            raise _refusal(created, f"cannot open a chat with {address}")
        self._opened.add(created.room_id)
        self._state.rooms[address] = created.room_id
        self._state.save(self._state_path)
        return str(created.room_id)

    async def _send_to_room(
        self, room_id: str, plain: str, html: str, transaction: str | None = None
    ) -> str:
        content = {
            "msgtype": "m.text",
            "body": plain,
            "format": "org.matrix.custom.html",
            "formatted_body": html,
        }
        if transaction:
            content[_OUTBOX_KEY] = transaction
        try:
            sent = await self.client.room_send(
                room_id,
                "m.room.message",
                content,
                tx_id=transaction,
                ignore_unverified_devices=True,
            )
        except LocalProtocolError as error:
            # A room nio has not synced yet (a chat just opened): the outbox tries again.
            raise MatrixUnavailable(f"send: {error}") from error
        if isinstance(sent, RoomSendError):
            if sent.status_code == "M_FORBIDDEN":
                raise NotInRoom(f"send: M_FORBIDDEN {sent.message}")
            raise _refusal(sent, "send")
        return str(sent.event_id)
