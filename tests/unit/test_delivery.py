"""Delivering the outbox over hand-written fakes: failures wait and retry, nothing is
dropped, and a transport that is not ready yet is left alone."""

from datetime import timedelta
from functools import partial

from helpdesk.domain.people import ChatIdentity
from helpdesk.i18n import Msg, Reply
from helpdesk.services.delivery import RetryLater, deliver_pending, retry_delay
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
