"""Delivering the outbox: each pending reply goes to the transport of its platform.

A send that fails (the homeserver is down, a flood limit) stays in the outbox and is
tried again later, waiting twice as long each time up to five minutes. A send the
platform refuses for good (too long, no such chat, the bot blocked), or one still
failing after days, is given up: kept as failed, staff are told once, and
``helpdesk outbox resend`` queues it again after a fix. Nothing queued is dropped, and
nothing is retried for ever.
"""

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.schedule import describe_duration
from helpdesk.i18n import Msg, Reply, Text
from helpdesk.services.audit import record
from helpdesk.services.messenger import notify_staff
from helpdesk.services.metrics import count_sent
from helpdesk.services.ports import Clock, OutboxItem, UnitOfWork, UnitOfWorkFactory

__all__ = [
    "GIVE_UP_AFTER",
    "OutboxRelay",
    "RetryLater",
    "Transport",
    "Undeliverable",
    "deliver_items",
    "deliver_pending",
    "resend",
    "retry_delay",
]

log = logging.getLogger(__name__)

_FIRST_RETRY = timedelta(seconds=2)
_LONGEST_WAIT = timedelta(minutes=5)
# A platform down for a weekend still gets what waited; a failure no wait has cured in
# this long is not a wait any more: give up and tell staff.
GIVE_UP_AFTER = timedelta(days=3)
# What alerts about failed deliveries refer to: one that fails itself raises no alert.
_FAILURE_REF = "outbox:"
_ROUND = 100  # items sent in one round of looking for what is due


class RetryLater(Exception):
    """The platform asked us to wait (a flood limit): try again after ``after``, and send
    nothing more on that platform in this round."""

    def __init__(self, after: timedelta) -> None:
        super().__init__(f"retry after {after.total_seconds():g} s")
        self.after = after


class Undeliverable(Exception):
    """The platform refused the message for a reason that waiting will not change (too
    long, a bad request, no such chat, the bot blocked or out of the room). The outbox
    keeps it as failed, staff are told once, and it can be sent again after a fix.

    The message is the platform's reason, for staff: never the message's text."""


class Transport(Protocol):
    """How an adapter sends: it renders the reply its own way and returns the message id.

    ``key`` is the same every time one outbox item is tried: platforms that can (Matrix
    transaction ids) use it so that a retry after a crash does not send the message twice.
    ``ready`` is false while the adapter cannot send yet (before its first sync): its
    items then wait without counting as failed attempts, so no backoff delays them.

    ``send`` raises ``RetryLater`` for a flood limit, ``Undeliverable`` for a refusal that
    will not change, anything else for a failure worth retrying. A platform that took the
    message but answered in a form that cannot be read still sent it: return None then
    rather than raise, or it would go out again.
    """

    platform: str

    @property
    def ready(self) -> bool: ...

    async def send(
        self, address: str, reply: Reply, language: str | None, key: str
    ) -> str | None: ...


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure (1, 2, ...)."""
    # The exponent is capped: after many failures 2**n would overflow a timedelta.
    wait: timedelta = _FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 16)
    return min(wait, _LONGEST_WAIT)


async def deliver_pending(
    uow_factory: UnitOfWorkFactory,
    transports: Mapping[str, Transport],
    clock: Clock,
    *,
    batch: int = 100,
) -> int:
    """Send what is due for the given platforms, oldest first. Returns how many were sent.

    One item per unit of work, held while it is sent: with several workers on PostgreSQL
    each item goes out once, and an item whose worker died is free again at once."""
    ready = {platform: t for platform, t in transports.items() if t.ready}
    sent = 0
    for _ in range(batch):
        if not ready:
            break
        async with uow_factory() as uow:
            item = await uow.outbox.next_due(list(ready), clock())
            if item is None:
                break
            done, message_id = await _attempt(uow, item, ready, clock)
            if done and not item.reply.ephemeral:
                await uow.outbox.mark_all_delivered([(item.id, message_id)], clock())
            sent += done
            await uow.commit()
    return sent


async def deliver_items(
    uow_factory: UnitOfWorkFactory,
    transports: Mapping[str, Transport],
    clock: Clock,
    item_ids: Sequence[int],
) -> int:
    """Send the items ``item_ids`` that are still to deliver (just queued by this process,
    so nothing needs to be looked for); how many were sent. They are held in one unit of
    work while they are sent, and marked delivered in one statement; what another worker
    holds, or waits for a retry, is left to ``deliver_pending``."""
    ready = {platform: t for platform, t in transports.items() if t.ready}
    if not ready or not item_ids:
        return 0
    sent = 0
    async with uow_factory() as uow:
        delivered: list[tuple[int, str | None]] = []
        for item in await uow.outbox.take(item_ids, list(ready), clock()):
            if item.identity.platform not in ready:  # a flood limit on its platform
                continue
            done, message_id = await _attempt(uow, item, ready, clock)
            if done and not item.reply.ephemeral:
                delivered.append((item.id, message_id))
            sent += done
        if delivered:
            await uow.outbox.mark_all_delivered(delivered, clock())
        await uow.commit()
    return sent


async def _attempt(
    uow: UnitOfWork, item: OutboxItem, ready: dict[str, Transport], clock: Clock
) -> tuple[bool, str | None]:
    """Send one item: whether it went, and its message id. The caller marks it delivered
    (an ephemeral one is forgotten here instead). Not sent: its failure is recorded, and
    a flood limit takes its platform out of ``ready``."""
    platform = item.identity.platform
    try:
        message_id = await ready[platform].send(
            item.identity.address, item.reply, item.language, f"outbox-{item.id}"
        )
    except RetryLater as wait:
        count_sent(platform, ok=False)
        del ready[platform]  # nothing more on that platform this round
        log.info("delivery on %s held for %s", platform, wait.after)
        now = clock()
        await uow.outbox.mark_failed(item.id, str(wait), now + wait.after, now)
    except Undeliverable as refusal:
        count_sent(platform, ok=False)
        log.warning("outbox item %s on %s refused for good: %s", item.id, platform, refusal)
        await _give_up(uow, item, str(refusal), clock())
    except Exception as error:  # a transport failure must not stop the others
        count_sent(platform, ok=False)
        await _failed(uow, item, error, clock())
    else:
        count_sent(platform, ok=True)
        if item.reply.ephemeral:
            await uow.outbox.forget(item.id)
        return True, message_id
    return False, None


async def _failed(uow: UnitOfWork, item: OutboxItem, error: Exception, now: datetime) -> None:
    """A failure worth retrying: wait longer each time; after days, give up."""
    attempts = item.attempts + 1
    reason = f"{type(error).__name__}: {error}"
    level = logging.ERROR if attempts >= 10 else logging.WARNING
    log.log(
        level,
        "delivery of outbox item %s on %s failed (attempt %d): %s",
        item.id,
        item.identity.platform,
        attempts,
        type(error).__name__,
    )
    since = item.failing_since or now
    if now - since >= GIVE_UP_AFTER:
        waited = describe_duration(now - since)
        await _give_up(uow, item, f"still failing after {waited}: {reason}", now)
        return
    await uow.outbox.mark_failed(item.id, reason, now + retry_delay(attempts), now)


async def _give_up(uow: UnitOfWork, item: OutboxItem, reason: str, now: datetime) -> None:
    """The item's final state, and one message to staff saying what did not arrive."""
    if item.reply.ephemeral:
        # A goodbye to someone forgotten: nothing to resend, nobody to name to staff.
        await uow.outbox.forget(item.id)
        return
    await uow.outbox.give_up(item.id, reason, now)
    if (item.reply.ref or "").startswith(_FAILURE_REF):
        return  # an alert that could not be delivered: another alert would follow it
    person = await uow.people.get(item.person_id) if item.person_id is not None else None
    who: Text | str = (
        f"{person.name} (#{person.id})" if person is not None else Text(Msg.SOMEONE_UNREGISTERED)
    )
    parts = [
        Text(
            Msg.STAFF_DELIVERY_FAILED,
            {"who": who, "platform": item.identity.platform, "reason": reason[:300]},
        )
    ]
    ticket = _ticket_of(item.reply)
    if ticket is not None:
        parts.append(Text(Msg.STAFF_DELIVERY_FAILED_TICKET, {"ticket": ticket}))
    parts.append(Text(Msg.STAFF_DELIVERY_RESEND, {"item": item.id}))
    await notify_staff(
        uow,
        Reply(
            tuple(parts),
            ref=f"{_FAILURE_REF}{item.id}",
            mentions=(person.id,) if person is not None and person.id is not None else (),
        ),
        now,
    )


async def resend(uow: UnitOfWork, item_id: int, who: str, now: datetime) -> bool:
    """Staff queue a message that could not be delivered again (after fixing the cause);
    False if there is no such failed message. Audited."""
    if not await uow.outbox.resend(item_id):
        return False
    await record(uow, now, who, AuditAction.RESEND, f"outbox:{item_id}")
    return True


def _ticket_of(reply: Reply) -> int | None:
    ref = reply.ref or ""
    number = ref.removeprefix("ticket:")
    return int(number) if ref.startswith("ticket:") and number.isdecimal() else None


class OutboxRelay:
    """Keeps delivering: the items handed to it (``hand``: what this process's messages
    just queued) at once, without looking for them; everything due when woken (``wake``)
    and every few seconds, for what others queued (the CLI, another process) or what
    waits for a retry."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        transports: Mapping[str, Transport],
        clock: Clock,
        interval: float = 2.0,
    ) -> None:
        self._uow = uow
        self._transports = transports
        self._clock = clock
        self._interval = interval
        self._wake = asyncio.Event()
        self._handed: list[int] = []
        self._look = True  # look for what is due: at the start, when woken, every interval

    def wake(self) -> None:
        """Look for everything due."""
        self._look = True
        self._wake.set()

    def hand(self, item_ids: Sequence[int]) -> None:
        """Deliver these items (committed just now) at once."""
        if item_ids:
            self._handed.extend(item_ids)
            self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; the round in progress is finished first."""
        while not stop.is_set():
            self._wake.clear()
            handed, self._handed = self._handed, []
            look, self._look = self._look, False
            try:
                if handed:
                    await deliver_items(self._uow, self._transports, self._clock, handed)
                # A full round may have left more; a shorter one ended on nothing due.
                while look and not stop.is_set():
                    look = (
                        await deliver_pending(
                            self._uow, self._transports, self._clock, batch=_ROUND
                        )
                        >= _ROUND
                    )
            except Exception:
                log.exception("outbox delivery round failed")
            if self._handed or self._look:
                continue
            waiters = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
            done, waiting = await asyncio.wait(
                waiters, timeout=self._interval, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waiting:
                waiter.cancel()
            if not done:
                self._look = True
