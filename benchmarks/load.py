"""Load: many officials writing at once for a fixed time, through a real Bot API server
over HTTP, on one worker and on two.

    .venv/bin/python -m benchmarks.load [--officials 200] [--seconds 60]

Every official writes a question, waits for the reply, writes the next, until the time is
up; nothing is sent after that, and every question still gets up to 60 s for its reply.
One run measures, on the same machine and the same Bot API stand-in
(tests/servers/telegram/, real HTTP on loopback; webhooks delivered like Telegram,
up to 40 at once, one chat's in order):

- one worker on SQLite, long polling (the simplest deployment; the baseline);
- one worker on PostgreSQL, webhook behind the load balancer;
- two workers on one PostgreSQL database, webhook behind the load balancer
  (tests/servers/balancer.py), the way "Scaling" in docs/operations.md describes.

Lexical matching, so that the figures measure the helpdesk's own work (the embedding
model's cost per question is measured by ``benchmarks.run``). Reported: replies per
second, p50/p95/p99 of the round trip, and questions lost (no reply within 60 s).
Writes benchmarks/LOAD.md.
"""

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.matrix_roundtrip import _invites
from benchmarks.telegram_roundtrip import ask
from tests.servers.balancer import LoadBalancer
from tests.servers.net import free_port
from tests.servers.postgres import PostgresServer
from tests.servers.telegram import BotApiServer, SimUser

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "434343:" + "L" * 35
QUESTION = "How do we set up a local safety council in our municipality?"


@dataclass
class Outcome:
    times: list[float]
    lost: int
    seconds: float

    def row(self, name: str, baseline: float | None) -> str:
        ordered = sorted(self.times)

        def pct(p: float) -> float:
            return ordered[min(int(p * len(ordered)), len(ordered) - 1)] * 1000

        throughput = len(self.times) / self.seconds
        ratio = f"{throughput / baseline:.2f}×" if baseline else "1.00×"
        return (
            f"| {name} | {len(self.times) + self.lost} | {throughput:.1f} | {ratio} | "
            f"{statistics.median(ordered) * 1000:.0f} | {pct(0.95):.0f} | {pct(0.99):.0f} | "
            f"{self.lost} |"
        )


async def load(api: BotApiServer, codes: list[str], seconds: float) -> Outcome:
    officials = [api.user(f"Official {i}") for i in range(len(codes))]
    registered = await asyncio.gather(
        *(ask(api, o, f"/start {c}") for o, c in zip(officials, codes, strict=True))
    )
    assert all(r is not None for r in registered), "a registration was lost"
    stop_at = time.perf_counter() + seconds

    async def one(official: SimUser) -> list[float | None]:
        results = []
        while time.perf_counter() < stop_at:
            results.append(await ask(api, official, QUESTION))
        return results

    started = time.perf_counter()
    results = [r for rs in await asyncio.gather(*(one(o) for o in officials)) for r in rs]
    elapsed = time.perf_counter() - started
    times = [r for r in results if r is not None]
    return Outcome(times, len(results) - len(times), elapsed)


def _env(api: BotApiServer, database_url: str, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
        "HELPDESK_SEMANTIC_MATCHING": "false",
        "HELPDESK_TELEGRAM_TOKEN": TOKEN,
        "HELPDESK_TELEGRAM_BASE_URL": api.url,
        "HELPDESK_LOG_LEVEL": "WARNING",
        "HELPDESK_MAX_MESSAGES_PER_MINUTE": "100000",
        **extra,
    }


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py")], env=env, stdout=out, stderr=out
        )


def _prepare(env: dict[str, str], officials: int) -> list[str]:
    subprocess.run(
        [sys.executable, "-m", "helpdesk", "kb", "import", str(ROOT / "knowledge")],
        env=env,
        check=True,
        capture_output=True,
    )
    return _invites(env["HELPDESK_DATABASE_URL"], officials)


def _until_ready(api: BotApiServer, method: str, since: int) -> None:
    """Until the bot called ``method`` (it is up: polling, or its webhook set)."""
    deadline = time.monotonic() + 120
    while api.calls[method] <= since and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)


async def run_config(
    name: str,
    base: Path,
    database_url: str,
    workers: int,
    officials: int,
    seconds: float,
) -> Outcome:
    await asyncio.to_thread(base.mkdir, parents=True)
    processes: list[subprocess.Popen[bytes]] = []
    balancer: LoadBalancer | None = None
    with BotApiServer(TOKEN) as api:
        try:
            if workers == 0:  # long polling, one worker
                env = _env(api, database_url, {})
                codes = await asyncio.to_thread(_prepare, env, officials)
                polls = api.calls["getUpdates"]
                processes.append(_start(env, base / "bot.log"))
                await asyncio.to_thread(_until_ready, api, "getUpdates", polls)
            else:
                balancer = LoadBalancer([free_port() for _ in range(workers)])
                await balancer.start()
                secret = secrets.token_urlsafe(24)
                codes = []
                hooks = api.calls["setWebhook"]
                for n, port in enumerate(balancer.ports):
                    env = _env(
                        api,
                        database_url,
                        {
                            "HELPDESK_TELEGRAM_WEBHOOK_URL": balancer.url,
                            "HELPDESK_TELEGRAM_WEBHOOK_PORT": str(port),
                            "HELPDESK_TELEGRAM_WEBHOOK_SECRET": secret,
                        },
                    )
                    if n == 0:
                        codes = await asyncio.to_thread(_prepare, env, officials)
                    processes.append(_start(env, base / f"bot-{n}.log"))
                await asyncio.to_thread(_until_ready, api, "setWebhook", hooks + workers - 1)
            outcome = await load(api, codes, seconds)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                await asyncio.to_thread(process.wait)
            if balancer is not None:
                await balancer.close()
    print(outcome.row(name, None), flush=True)
    return outcome


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officials", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="helpdesk-load-"))
    postgres = PostgresServer.create()
    postgres.start()
    try:
        configs = [
            ("1 worker, SQLite, long polling", f"sqlite:///{base / 'config-0' / 'h.db'}", 0),
            ("1 worker, PostgreSQL, webhook", postgres.new_database(), 1),
            ("2 workers, PostgreSQL, webhook", postgres.new_database(), 2),
        ]
        outcomes = []
        for n, (name, url, workers) in enumerate(configs):
            folder = base / f"config-{n}"
            outcome = await run_config(name, folder, url, workers, args.officials, args.seconds)
            outcomes.append((name, outcome))
    finally:
        postgres.stop()
    baseline = len(outcomes[0][1].times) / outcomes[0][1].seconds
    lines = [
        f"{args.officials} officials writing at once for {args.seconds:g} s, each waiting for "
        f"the reply before the next question; lexical matching; Bot API stand-in over HTTP "
        f"on loopback; {os.cpu_count()} cores, the bots, PostgreSQL and the load generator "
        f"sharing them (`python -m benchmarks.load`):",
        "",
        "| configuration | questions | replies/s | vs 1 worker | p50 ms | p95 ms | p99 ms | lost |",
        "|---|---|---|---|---|---|---|---|",
        *(outcome.row(name, baseline) for name, outcome in outcomes),
    ]
    output = "\n".join(lines) + "\n"
    (ROOT / "benchmarks" / "LOAD.md").write_text(output, encoding="utf-8")
    print(output)


if __name__ == "__main__":
    asyncio.run(main())
