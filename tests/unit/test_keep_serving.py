"""The adapter contract's serving loop: backoff with full jitter, written once for every
adapter, with a hand-written adapter and the waits recorded instead of slept."""

import asyncio
import logging
import random

import pytest

from helpdesk.adapters.contract import (
    ChatAdapter,
    FullJitter,
    Misconfigured,
    Unavailable,
    keep_serving,
)
from helpdesk.i18n import Reply

Outcome = Exception | None  # a round's failure, or None for a round that went well


class ScriptedAdapter:
    """Starts and serves as scripted; when the script runs out, it is stopped."""

    platform = "scripted"

    def __init__(
        self,
        rounds: list[Outcome],
        *,
        start_failures: list[Exception] | None = None,
        retryable: bool = True,
    ) -> None:
        self._rounds = list(rounds)
        self._start_failures = list(start_failures or [])
        self._retryable = retryable
        self.ready = False
        self.starts = 0
        self.served = 0

    async def start(self) -> None:
        self.starts += 1
        if self._start_failures:
            raise self._start_failures.pop(0)
        self.ready = True

    async def serve_once(self, stop: asyncio.Event) -> None:
        self.served += 1
        if not self._rounds:
            stop.set()
            return
        outcome = self._rounds.pop(0)
        if outcome is not None:
            raise outcome

    def retryable(self, error: Exception) -> bool:
        return self._retryable

    async def send(self, address: str, reply: Reply, language: str | None, key: str) -> str:
        raise AssertionError("nothing is sent in these tests")

    async def close(self) -> None:
        self.ready = False


class Widest(random.Random):
    """Always the longest wait allowed: the ceiling itself."""

    def uniform(self, a: float, b: float) -> float:
        return b


class Waits:
    """Stands in for the wait between tries: records it and returns at once."""

    def __init__(self, stop_after: int | None = None, stop: asyncio.Event | None = None) -> None:
        self.seconds: list[float] = []
        self._stop_after = stop_after
        self._stop = stop

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if self._stop is not None and len(self.seconds) == self._stop_after:
            self._stop.set()


async def serve(
    adapter: ChatAdapter,
    waits: Waits,
    backoff: FullJitter | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    await keep_serving(
        adapter, stop or asyncio.Event(), backoff=backoff or FullJitter(rng=Widest()), sleep=waits
    )


async def test_the_wait_doubles_after_each_failure_up_to_a_minute() -> None:
    adapter = ScriptedAdapter([OSError("down")] * 9)
    waits = Waits()
    await serve(adapter, waits)
    assert waits.seconds == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert adapter.served == 10 and adapter.starts == 1


async def test_each_wait_is_drawn_between_nothing_and_its_ceiling() -> None:
    adapter = ScriptedAdapter([OSError("down")] * 200)
    waits = Waits()
    await serve(adapter, waits, FullJitter(rng=random.Random(7)))
    ceilings = [min(2.0**n, 60.0) for n in range(200)]
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(waits.seconds, ceilings, strict=True))
    # Full jitter: the waits spread over the whole range, not just below the ceiling.
    late = waits.seconds[10:]
    assert min(late) < 15 and max(late) > 45


async def test_a_round_that_goes_well_starts_the_waits_afresh() -> None:
    adapter = ScriptedAdapter([OSError(), OSError(), None, OSError(), None, None])
    waits = Waits()
    await serve(adapter, waits)
    assert waits.seconds == [1, 2, 1]


async def test_a_failed_start_is_tried_again_and_serving_failures_do_not_restart() -> None:
    adapter = ScriptedAdapter([OSError(), None], start_failures=[OSError(), Unavailable("502")])
    waits = Waits()
    await serve(adapter, waits)
    assert adapter.starts == 3  # two failures, then started once for good
    assert waits.seconds == [1, 2, 4]  # the failed serve continues the count of failures
    assert adapter.served == 3


async def test_a_setting_the_platform_refuses_stops_at_once() -> None:
    adapter = ScriptedAdapter([], start_failures=[Misconfigured("check HELPDESK_X_TOKEN")])
    waits = Waits()
    with pytest.raises(Misconfigured, match="HELPDESK_X_TOKEN"):
        await serve(adapter, waits)
    assert waits.seconds == [] and adapter.starts == 1


async def test_a_failure_the_adapter_does_not_call_retryable_is_raised() -> None:
    adapter = ScriptedAdapter([OSError(), KeyError("bug")], retryable=False)
    waits = Waits()
    with pytest.raises(OSError):
        await serve(adapter, waits)
    assert waits.seconds == []


async def test_stopping_during_a_wait_ends_serving_without_another_try() -> None:
    stop = asyncio.Event()
    adapter = ScriptedAdapter([OSError()] * 5)
    waits = Waits(stop_after=2, stop=stop)
    await serve(adapter, waits, stop=stop)
    assert adapter.served == 2 and waits.seconds == [1, 2]


async def test_without_a_wait_given_stopping_cuts_the_wait_short() -> None:
    class Failing(ScriptedAdapter):
        failed = asyncio.Event()

        async def serve_once(self, stop: asyncio.Event) -> None:
            self.served += 1
            self.failed.set()
            raise OSError("down")

    stop = asyncio.Event()
    adapter = Failing([])
    # An hour's wait, which stop must end: the test would otherwise not finish.
    serving = asyncio.create_task(
        keep_serving(adapter, stop, backoff=FullJitter(first=3600, longest=3600, rng=Widest()))
    )
    await adapter.failed.wait()
    stop.set()
    await serving
    assert adapter.served == 1


async def test_becoming_ready_is_announced_once() -> None:
    adapter = ScriptedAdapter([None, OSError(), None])
    announced: list[bool] = []
    await keep_serving(
        adapter,
        asyncio.Event(),
        on_ready=lambda: announced.append(adapter.ready),
        backoff=FullJitter(rng=Widest()),
        sleep=Waits(),
    )
    assert announced == [True]


async def test_cancelling_is_not_a_failure_to_retry() -> None:
    class Hanging(ScriptedAdapter):
        serving = asyncio.Event()

        async def serve_once(self, stop: asyncio.Event) -> None:
            self.served += 1
            self.serving.set()
            await asyncio.Event().wait()

    adapter = Hanging([])
    waits = Waits()
    serving = asyncio.create_task(serve(adapter, waits))
    await adapter.serving.wait()
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    assert waits.seconds == [] and adapter.served == 1


async def test_the_log_gives_the_platforms_reason_and_only_the_kind_of_other_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "123456:ABCDEF"
    adapter = ScriptedAdapter([Unavailable("sync: 502 Bad Gateway"), OSError(f"GET /bot{secret}")])
    with caplog.at_level(logging.WARNING, logger="helpdesk.adapters.contract"):
        await serve(adapter, Waits())
    assert [r.getMessage() for r in caplog.records] == [
        "scripted: sync: 502 Bad Gateway; retrying in 1.0 s",
        "scripted: OSError; retrying in 2.0 s",
    ]
    assert secret not in caplog.text
