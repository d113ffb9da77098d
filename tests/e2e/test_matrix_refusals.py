"""The Matrix adapter as the outbox's transport, driven directly against a real Synapse:
which refusals it reports as final (``Undeliverable``), which as worth waiting for
(``RetryLater``, ``MatrixUnavailable``), and a person's chat that is gone or left.

No database here, only the adapter and the homeserver: these tests take no ``engine``."""

import asyncio
import contextlib
import json
import secrets
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpdesk.adapters.contract import keep_serving
from helpdesk.adapters.matrix import MatrixAdapter, MatrixSettings, MatrixUnavailable
from helpdesk.i18n import Msg, Quote, Reply, Translator
from helpdesk.services.conversation import Inbound
from helpdesk.services.delivery import RetryLater, Undeliverable
from tests.e2e.conftest import MatrixUser, People
from tests.e2e.test_telegram_api import until
from tests.servers.synapse import Homeserver

HELLO = Reply.say(Msg.GROUP_REFUSED)  # any sentence of the catalogue will do
ELSEWHERE = "@someone:elsewhere.test"  # a server the test homeserver does not federate with


class Running:
    """A MatrixAdapter syncing in this process as a fresh user of the homeserver."""

    def __init__(self, server: Homeserver, store: Path) -> None:
        self.password = secrets.token_hex(8)
        self.user_id = server.register(f"helpdesk-{secrets.token_hex(3)}", self.password)
        self.server = server
        self.store = store
        self.inbox: list[Inbound] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """A new run of the bot: a new adapter on the same store, synced."""
        settings = MatrixSettings(
            homeserver=self.server.url,
            user_id=self.user_id,
            store_path=self.store,
            password=self.password,
        )

        async def handle(inbound: Inbound) -> None:
            self.inbox.append(inbound)

        self.adapter = MatrixAdapter(settings, Translator(), handle)
        self._task = asyncio.create_task(keep_serving(self.adapter, asyncio.Event()))
        await until(lambda: self.adapter.ready, within=30)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()  # it may be in a long poll: as the bot does at shutdown
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.adapter.close()

    async def greeted_by(self, user: MatrixUser) -> None:
        """``user`` opens a direct chat and writes: the adapter knows their chat."""
        await user.login()
        await user.open_chat(self.user_id)
        await user.say("Hello")
        await until(lambda: any(i.address == user.user_id for i in self.inbox), within=30)

    async def deliver(self, address: str, reply: Reply, key: str) -> str:
        """Send as the outbox does: again, with the same key, while it is worth retrying."""
        deadline = time.monotonic() + 30
        while True:
            try:
                return await self.adapter.send(address, reply, "en", key)
            except MatrixUnavailable:
                assert time.monotonic() < deadline, "not delivered within the time"
                await asyncio.sleep(0.5)


@pytest.fixture
async def bot(homeserver: Homeserver, tmp_path: Path) -> AsyncIterator[Running]:
    running = Running(homeserver, tmp_path / "matrix-store")
    await running.start()
    yield running
    await running.stop()


def admin_api(server: Homeserver, method: str, path: str, body: object) -> None:
    """A call to Synapse's admin API as a new server admin."""
    password = secrets.token_hex(8)
    admin = server.register(f"boss-{secrets.token_hex(3)}", password, admin=True)
    login = {"type": "m.login.password", "user": admin, "password": password}
    request = urllib.request.Request(
        f"{server.url}/_matrix/client/v3/login", data=json.dumps(login).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token = json.load(response)["access_token"]
    request = urllib.request.Request(
        f"{server.url}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


async def test_refusals_that_waiting_will_not_change_are_undeliverable(
    bot: Running, people: People, homeserver: Homeserver
) -> None:
    ana = people.make("ana")
    await bot.greeted_by(ana)
    long = "A very long answer. " * 4000  # 80 000 characters: over an event's 64 KiB
    with pytest.raises(Undeliverable) as refused:
        await bot.adapter.send(ana.user_id, Reply((Quote(long),)), "en", "outbox-1")
    assert "M_TOO_LARGE" in str(refused.value)
    assert "very long answer" not in str(refused.value)  # the reason, never the text

    with pytest.raises(Undeliverable) as refused:
        await bot.adapter.send(ELSEWHERE, HELLO, "en", "outbox-2")
    assert "M_FORBIDDEN" in str(refused.value)

    # The homeserver out of reach is worth waiting for: the same item goes out afterwards,
    # once.
    homeserver.stop()
    try:
        with pytest.raises(MatrixUnavailable):
            await bot.adapter.send(ana.user_id, HELLO, "en", "outbox-3")
    finally:
        homeserver.start()
    await bot.deliver(ana.user_id, HELLO, "outbox-3")
    await bot.deliver(ana.user_id, HELLO, "outbox-3")
    assert len(await ana.messages(settle=2)) == 1


async def test_a_flood_limit_says_how_long_to_wait(
    bot: Running, people: People, homeserver: Homeserver
) -> None:
    ana = people.make("ana")
    await bot.greeted_by(ana)
    admin_api(
        homeserver,
        "POST",
        f"/_synapse/admin/v1/users/{bot.user_id}/override_ratelimit",
        {"messages_per_second": 1, "burst_count": 1},
    )
    with pytest.raises(RetryLater) as wait:
        for number in range(1, 10):
            await bot.adapter.send(ana.user_id, HELLO, "en", f"outbox-{number}")
    assert 0 < wait.value.after.total_seconds() <= 2
    sent = number - 1
    await asyncio.sleep(wait.value.after.total_seconds())
    await bot.adapter.send(ana.user_id, HELLO, "en", f"outbox-{number}")
    assert len(await ana.messages(settle=2)) == sent + 1


async def test_a_chat_left_or_gone_while_the_bot_was_down_is_replaced(
    bot: Running, people: People
) -> None:
    ana, boris = people.make("ana"), people.make("boris")
    await bot.greeted_by(ana)
    await bot.greeted_by(boris)
    await bot.stop()
    left, gone = ana.room_id, boris.room_id
    assert left is not None and gone is not None
    await ana.client.room_leave(left)  # the bot stays in a chat nobody reads
    await boris.client.room_kick(gone, bot.user_id)  # the bot is no longer in the chat
    await bot.start()

    # Neither could read a message in the old chat: each gets it in a new one, once.
    for number, person in enumerate((ana, boris)):
        await bot.deliver(person.user_id, HELLO, f"outbox-{number}")
        await person.expect("only answer in direct chats")
    assert await ana.messages(settle=1) == await boris.messages(settle=0) == []
