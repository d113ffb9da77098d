"""The Telegram adapter's ``send`` in this process, against the Bot API stand-in over HTTP:
what it tells the outbox for each kind of refusal. (The outbox's handling of
``Undeliverable`` is the relay's, tested with it.)"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from telegram.error import NetworkError

from helpdesk.adapters.contract import Handler, keep_serving
from helpdesk.adapters.telegram import TelegramAdapter, TelegramSettings
from helpdesk.domain.actions import ChooseLanguage
from helpdesk.i18n import Button, Msg, Quote, Reply, Text, Translator
from helpdesk.services.conversation import Inbound
from helpdesk.services.delivery import RetryLater, Undeliverable
from tests.servers.net import free_port
from tests.servers.telegram import BotApiServer

TOKEN = "123456:" + "C" * 35
HELLO = Reply.say(Msg.HELP_OFFICIAL)


async def nobody(_: Inbound) -> None:
    """No message from a person is expected in these tests."""


@contextlib.asynccontextmanager
async def running(base_url: str, handle: Handler = nobody) -> AsyncIterator[TelegramAdapter]:
    """The adapter, started as the bot starts it, until the test is done."""
    adapter = TelegramAdapter(TelegramSettings(TOKEN, base_url), Translator(), handle)
    stop = asyncio.Event()
    task = asyncio.create_task(keep_serving(adapter, stop))
    try:
        yield adapter
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await adapter.close()


@pytest.fixture
async def api() -> AsyncIterator[BotApiServer]:
    with BotApiServer(TOKEN) as server:
        yield server


@pytest.fixture
async def adapter(api: BotApiServer) -> AsyncIterator[TelegramAdapter]:
    async with running(api.url) as started:
        deadline = time.monotonic() + 30
        while not started.ready:
            assert time.monotonic() < deadline, "the adapter did not start"
            await asyncio.sleep(0.05)
        yield started


async def test_a_refusal_that_will_not_change_is_undeliverable(
    api: BotApiServer, adapter: TelegramAdapter
) -> None:
    ana, bob, eve = api.user("Ana"), api.user("Bob"), api.user("Eve")
    api.block(ana)
    with pytest.raises(Undeliverable, match=r"^Forbidden: bot was blocked by the user$"):
        await adapter.send(str(ana.id), HELLO, "en", "outbox-1")
    api.deactivate(bob)
    with pytest.raises(Undeliverable, match=r"^Forbidden: user is deactivated$"):
        await adapter.send(str(bob.id), HELLO, "en", "outbox-2")
    with pytest.raises(Undeliverable, match=r"^Chat not found$"):
        await adapter.send("424242", HELLO, "en", "outbox-3")
    assert api.messages(ana.id) == api.messages(bob.id) == []
    # Refused for that person only: the next one gets theirs.
    sent = await adapter.send(str(eve.id), HELLO, "en", "outbox-4")
    [message] = api.messages(eve.id)
    assert sent == f"{eve.id}:{message.message_id}"


async def test_the_reason_is_telegrams_never_the_text(
    api: BotApiServer, adapter: TelegramAdapter
) -> None:
    ana = api.user("Ana")
    api.block(ana)
    secret = "Our mayor's private phone number is 555-0100"
    with pytest.raises(Undeliverable) as refused:
        await adapter.send(str(ana.id), Reply((Text(Msg.HELP_OFFICIAL), Quote(secret))), "en")
    assert "555-0100" not in str(refused.value)


async def test_a_flood_limit_and_a_network_error_stay_worth_retrying(
    api: BotApiServer, adapter: TelegramAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # python-telegram-bot 22 warns without it
    ana = api.user("Ana")
    api.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryLater) as held:
        await adapter.send(str(ana.id), HELLO, "en", "outbox-1")
    assert held.value.after.total_seconds() == 7
    async with running(f"http://127.0.0.1:{free_port()}") as away:  # nothing listens there
        with pytest.raises(NetworkError):
            await away.send(str(ana.id), HELLO, "en", "outbox-2")


async def test_an_answer_that_cannot_be_read_still_means_sent(
    api: BotApiServer, adapter: TelegramAdapter
) -> None:
    ana = api.user("Ana")
    api.garble_next("sendMessage", body=b"<html>OK</html>")
    assert await adapter.send(str(ana.id), HELLO, "en", "outbox-1") is None
    api.garble_next("sendMessage")  # a result of another shape: its id is still read
    sent = await adapter.send(str(ana.id), HELLO, "en", "outbox-2")
    assert [f"{ana.id}:{m.message_id}" for m in api.messages(ana.id)][-1] == sent
    # A reply in pieces: the pieces whose answers cannot be read went out, once each.
    long = Reply((Quote("word " * 2000),))
    api.garble_next("sendMessage", count=2, body=b"not json")
    await adapter.send(str(ana.id), long, "en", "outbox-3")
    assert len(api.messages(ana.id)) == 2 + 3
    assert api.calls["sendMessage"] == 5 and api.errors == []


async def test_button_data_is_measured_in_bytes(
    api: BotApiServer, adapter: TelegramAdapter
) -> None:
    """50 characters but 90 bytes of UTF-8: too long for Telegram, so the button carries
    its number, which the core resolves as if the person had typed it."""
    ana = api.user("Ana")
    action = ChooseLanguage("é" * 40)
    reply = Reply((Text(Msg.HELP_OFFICIAL),), buttons=(Button(Quote("Long"), action),))
    await adapter.send(str(ana.id), reply, "en", "outbox-1")
    [message] = api.messages(ana.id)
    assert message.buttons == [("Long", "1")]


async def test_people_are_handled_at_once_and_each_one_in_order(api: BotApiServer) -> None:
    """A slow message from one person does not hold up another's; one person's messages
    are handled in the order they were sent."""
    ana, bob = api.user("Ana"), api.user("Bob")
    bob_handled, all_handled = asyncio.Event(), asyncio.Event()
    handled: list[tuple[str, str | None]] = []

    async def handle(message: Inbound) -> None:
        if message.text == "ana 1":
            await bob_handled.wait()  # handled one at a time, this waits for ever
        handled.append((message.address, message.text))
        if message.address == str(bob.id):
            bob_handled.set()
        if len(handled) == 4:
            all_handled.set()

    for text in ("ana 1", "ana 2", "ana 3"):
        api.send(ana, text)
    api.send(bob, "bob 1")

    async with running(api.url, handle):
        await asyncio.wait_for(all_handled.wait(), timeout=60)
    assert handled[0] == (str(bob.id), "bob 1")
    assert [text for who, text in handled if who == str(ana.id)] == ["ana 1", "ana 2", "ana 3"]
