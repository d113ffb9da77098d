"""Delivering the outbox over hand-written fakes: failures wait and retry, nothing is
dropped, and a transport that is not ready yet is left alone."""

import dataclasses
from datetime import UTC, datetime, timedelta
from functools import partial

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.i18n import Msg, Reply
from helpdesk.services.delivery import (
    GIVE_UP_AFTER,
    RetryLater,
    Undeliverable,
    deliver_pending,
    resend,
    retry_delay,
)
from tests.fakes import FakeClock, FakeStore, FakeUnitOfWork
from tests.support import RecordingTransport


class FlakyTransport(RecordingTransport):
    """Fails the first ``failures`` sends, as a homeserver that is down would."""

    def __init__(self, failures: int) -> None:
        super().__init__("test")
        self.failures = failures
        self.tries = 0

    async def send(self, address: str, reply: Reply, language: str | None, key: str = "") -> str:
        self.tries += 1
        if self.tries <= self.failures:
            raise ConnectionError("homeserver away")
        return await super().send(address, reply, language, key)


async def queue(store: FakeStore, clock: FakeClock, count: int = 1) -> None:
    async with FakeUnitOfWork(store) as uow:
        for _ in range(count):
            await uow.outbox.add(
                ChatIdentity("test", "ana"), None, "en", Reply.say(Msg.GROUP_REFUSED), clock()
            )
        await uow.commit()


def test_retry_delay_doubles_up_to_five_minutes() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert retry_delay(50) == timedelta(minutes=5)


async def test_a_failed_send_waits_then_is_retried_until_it_goes(
    store: FakeStore, clock: FakeClock
) -> None:
    await queue(store, clock)
    transport = FlakyTransport(failures=2)
    uow = partial(FakeUnitOfWork, store)
    assert await deliver_pending(uow, {"test": transport}, clock) == 0
    # Waiting: a second round at once does not try again.
    assert await deliver_pending(uow, {"test": transport}, clock) == 0
    assert transport.tries == 1
    clock.advance(seconds=2)
    assert await deliver_pending(uow, {"test": transport}, clock) == 0
    clock.advance(seconds=3)
    assert await deliver_pending(uow, {"test": transport}, clock) == 0  # 4 s after the 2nd
    clock.advance(seconds=1)
    assert await deliver_pending(uow, {"test": transport}, clock) == 1
    assert transport.tries == 3 and len(transport.sent) == 1
    assert await deliver_pending(uow, {"test": transport}, clock) == 0
    assert len(transport.sent) == 1


async def test_a_transport_that_is_not_ready_keeps_its_items_without_penalty(
    store: FakeStore, clock: FakeClock
) -> None:
    await queue(store, clock, count=3)
    transport = RecordingTransport("test", ready=False)
    uow = partial(FakeUnitOfWork, store)
    for _ in range(5):
        assert await deliver_pending(uow, {"test": transport}, clock) == 0
    assert all("attempts" not in row for row in store.outbox.values())
    transport.ready = True
    assert await deliver_pending(uow, {"test": transport}, clock) == 3
    assert [d.address for d in transport.sent] == ["ana"] * 3


async def test_one_failing_item_does_not_hold_back_the_others(
    store: FakeStore, clock: FakeClock
) -> None:
    await queue(store, clock, count=3)
    transport = FlakyTransport(failures=1)
    uow = partial(FakeUnitOfWork, store)
    assert await deliver_pending(uow, {"test": transport}, clock) == 2
    clock.advance(seconds=2)
    assert await deliver_pending(uow, {"test": transport}, clock) == 1
    assert len(transport.sent) == 3


class FloodedTransport(RecordingTransport):
    """Answers the first send with a flood limit, as Telegram's 429 does."""

    def __init__(self) -> None:
        super().__init__("test")
        self.flooded = False

    async def send(self, address: str, reply: Reply, language: str | None, key: str = "") -> str:
        if not self.flooded:
            self.flooded = True
            raise RetryLater(timedelta(seconds=30))
        return await super().send(address, reply, language, key)


async def test_a_flood_limit_holds_the_platform_for_as_long_as_asked(
    store: FakeStore, clock: FakeClock
) -> None:
    await queue(store, clock, count=3)
    transport = FloodedTransport()
    uow = partial(FakeUnitOfWork, store)
    # Held: the other two items are not tried in the same round either.
    assert await deliver_pending(uow, {"test": transport}, clock) == 0
    clock.advance(seconds=29)
    assert await deliver_pending(uow, {"test": transport}, clock) == 2
    clock.advance(seconds=1)
    assert await deliver_pending(uow, {"test": transport}, clock) == 1
    assert len(transport.sent) == 3


class RefusingTransport(RecordingTransport):
    """Refuses every message to ``refused`` for good, as Telegram does for a blocked bot."""

    def __init__(self, refused: str) -> None:
        super().__init__("test")
        self.refused = refused
        self.tries = 0

    async def send(self, address: str, reply: Reply, language: str | None, key: str = "") -> str:
        self.tries += 1
        if address == self.refused:
            raise Undeliverable("Forbidden: bot was blocked by the user")
        return await super().send(address, reply, language, key)


async def add_person(store: FakeStore, address: str, role: Role, name: str) -> int:
    async with FakeUnitOfWork(store) as uow:
        person = await uow.people.add(
            Person(
                name=name,
                role=role,
                identities=[ChatIdentity("test", address)],
                created_at=datetime(2026, 3, 1, tzinfo=UTC),
            )
        )
        await uow.commit()
    assert person.id is not None
    return person.id


async def test_a_refused_message_is_kept_as_failed_and_staff_are_told_once(
    store: FakeStore, clock: FakeClock
) -> None:
    ana = await add_person(store, "ana", Role.OFFICIAL, "Ana")
    await add_person(store, "sara", Role.STAFF, "Sara")
    async with FakeUnitOfWork(store) as uow:
        reply = Reply.say(Msg.GROUP_REFUSED)
        item = await uow.outbox.add(
            ChatIdentity("test", "ana"),
            ana,
            "en",
            dataclasses.replace(reply, ref="ticket:7"),
            clock(),
        )
        await uow.commit()
    transport = RefusingTransport("ana")
    units = partial(FakeUnitOfWork, store)
    assert await deliver_pending(units, {"test": transport}, clock) == 1  # the alert to staff
    for _ in range(3):
        clock.advance(minutes=10)
        assert await deliver_pending(units, {"test": transport}, clock) == 0
    assert transport.tries == 2  # the refused message once, the alert once
    [alert] = transport.for_address("sara")
    assert "A message to Ana (#1) on test could not be delivered" in alert.text
    assert "Forbidden: bot was blocked by the user" in alert.text
    assert "ticket #7" in alert.text and f"helpdesk outbox resend {item}" in alert.text
    async with FakeUnitOfWork(store) as uow:
        [failed] = await uow.outbox.failed()
        assert failed.id == item and failed.failed_at == clock.now - timedelta(minutes=30)
        assert failed.last_error == "Forbidden: bot was blocked by the user"
        # Once the cause is fixed (the official unblocked the bot), staff send it again.
        assert await resend(uow, item, "sara (cli)", clock())
        assert not await resend(uow, item, "sara (cli)", clock())  # pending now, not failed
        await uow.commit()
    transport.refused = ""
    assert await deliver_pending(units, {"test": transport}, clock) == 1
    assert [d.address for d in transport.sent] == ["sara", "ana"]
    assert store.audit[-1].action is AuditAction.RESEND


async def test_an_alert_that_cannot_be_delivered_raises_no_further_alert(
    store: FakeStore, clock: FakeClock
) -> None:
    ana = await add_person(store, "ana", Role.OFFICIAL, "Ana")
    await add_person(store, "sara", Role.STAFF, "Sara")
    async with FakeUnitOfWork(store) as uow:
        item = await uow.outbox.add(
            ChatIdentity("test", "ana"), ana, "en", Reply.say(Msg.GROUP_REFUSED), clock()
        )
        await uow.commit()
    nobody = RefusingTransport("")

    async def refuse(address: str, reply: Reply, language: str | None, key: str = "") -> str:
        nobody.tries += 1
        raise Undeliverable("Bad Request: chat not found")

    nobody.send = refuse  # type: ignore[method-assign]
    for _ in range(3):
        await deliver_pending(partial(FakeUnitOfWork, store), {"test": nobody}, clock)
        clock.advance(minutes=10)
    # Ana's message, then the alert about it to Sara: both refused, and no alert about
    # the alert.
    assert nobody.tries == 2
    async with FakeUnitOfWork(store) as uow:
        failed = await uow.outbox.failed()
    assert [(f.identity.address, f.reply.ref) for f in failed] == [
        ("sara", f"outbox:{item}"),
        ("ana", None),
    ]


async def test_a_failure_that_lasts_for_days_is_given_up_and_reported(
    store: FakeStore, clock: FakeClock
) -> None:
    await add_person(store, "sara", Role.STAFF, "Sara")
    await queue(store, clock)
    transport = FlakyTransport(failures=10_000)
    uow = partial(FakeUnitOfWork, store)
    tries = 0
    [item] = store.outbox
    while not store.outbox[item].get("failed_at"):
        clock.advance(minutes=5)
        await deliver_pending(uow, {"test": transport}, clock)
        tries += 1
        assert tries < 2000, "retried for ever"
    assert clock.now - store.outbox[item]["at"] >= GIVE_UP_AFTER  # type: ignore[operator]
    # The flaky transport failed the alert too; a working one delivers it.
    sara = RecordingTransport("test")
    clock.advance(minutes=5)
    await deliver_pending(uow, {"test": sara}, clock)
    [alert] = sara.for_address("sara")
    assert "someone who is not registered" in alert.text and "still failing after 3d" in alert.text
