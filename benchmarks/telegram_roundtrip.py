"""Round trip through a Bot API server over HTTP: an official writes, how long until the
reply arrives?

    .venv/bin/python -m benchmarks.telegram_roundtrip [--officials 50] [--questions 5]

The same Bot API stand-in (tests/servers/telegram/, real HTTP on loopback), in the same
run, serves this helpdesk bot (``python bot.py``, lexical and hybrid matching) and a bare
python-telegram-bot echo bot (the floor: what any PTB bot costs). Every official writes at
the same time, each waiting for the reply before the next question. The clock runs from
the moment the message is queued for the bot to the moment the server receives the
bot's ``sendMessage``. Reported: p50/p95 of the round trip, the ratio to the echo bot, and
messages lost.
"""

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.matrix_roundtrip import _invites, row
from tests.servers.telegram import BotApiServer, SimUser

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How do we set up a local safety council in our municipality?"
TOKEN = "424242:" + "E" * 35

ECHO_BOT = """
import sys
from telegram.ext import ApplicationBuilder, MessageHandler, filters
async def echo(update, context):
    await update.message.reply_text(update.message.text)
app = ApplicationBuilder().token(sys.argv[1]).base_url(sys.argv[2] + "/bot").build()
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(poll_interval=0.0, timeout=25)
"""


async def ask(api: BotApiServer, official: SimUser, text: str, wait: float = 60.0) -> float | None:
    """Seconds until the bot's next message to this official, or None if none came."""
    started = time.perf_counter()
    api.send(official, text)
    deadline = started + wait
    while time.perf_counter() < deadline:
        replies = await api.settle(official.id, 0)
        if replies:
            return replies[0].received_at - started
        await asyncio.sleep(0.002)
    return None


async def run_officials(
    api: BotApiServer, count: int, questions: int, codes: list[str], text: str
) -> tuple[list[float], int]:
    officials = [api.user(f"Official {i}") for i in range(count)]
    if codes:
        answers = await asyncio.gather(
            *(ask(api, o, f"/start {c}") for o, c in zip(officials, codes, strict=True))
        )
        assert all(a is not None for a in answers), "registration lost"

    async def one(official: SimUser) -> list[float | None]:
        return [await ask(api, official, text) for _ in range(questions)]

    results = [r for rs in await asyncio.gather(*(one(o) for o in officials)) for r in rs]
    times = [r for r in results if r is not None]
    return times, len(results) - len(times)


def helpdesk_env(api: BotApiServer, base: Path, semantic: bool) -> dict[str, str]:
    return {
        **os.environ,
        "HELPDESK_DATABASE_URL": f"sqlite:///{base / 'helpdesk.db'}",
        "HELPDESK_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
        "HELPDESK_SEMANTIC_MATCHING": "true" if semantic else "false",
        "HELPDESK_TELEGRAM_TOKEN": TOKEN,
        "HELPDESK_TELEGRAM_BASE_URL": api.url,
        "HELPDESK_LOG_LEVEL": "WARNING",
    }


def wait_until_polling(api: BotApiServer, since: int, patience: float = 300) -> None:
    """Until the bot asked for updates (it is up), then a little more."""
    deadline = time.monotonic() + patience
    while api.calls["getUpdates"] <= since and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)


def start_echo(api: BotApiServer) -> subprocess.Popen[bytes]:
    echo = subprocess.Popen([sys.executable, "-c", ECHO_BOT, TOKEN, api.url])
    wait_until_polling(api, 0)
    return echo


def start_helpdesk(
    api: BotApiServer, folder: Path, semantic: bool, officials: int
) -> tuple[subprocess.Popen[bytes], list[str]]:
    """The bot on a fresh database with the knowledge base, and invitation codes."""
    env = helpdesk_env(api, folder, semantic)
    subprocess.run(
        [sys.executable, "-m", "helpdesk", "kb", "import", str(ROOT / "knowledge")],
        env=env,
        check=True,
        capture_output=True,
    )
    codes = _invites(env["HELPDESK_DATABASE_URL"], officials)
    log = (folder / "bot.log").open("ab")
    polls = api.calls["getUpdates"]
    bot = subprocess.Popen([sys.executable, str(ROOT / "bot.py")], env=env, stdout=log, stderr=log)
    wait_until_polling(api, polls)
    return bot, codes


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officials", type=int, default=50)
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="telegram-roundtrip-"))
    lines = [
        "| bot | messages | p50 ms | p95 ms | p50 vs echo | lost |",
        "|---|---|---|---|---|---|",
    ]
    processes: list[subprocess.Popen[bytes]] = []
    with BotApiServer(TOKEN) as api:
        try:
            echo = await asyncio.to_thread(start_echo, api)
            processes.append(echo)
            times, lost = await run_officials(api, args.officials, args.questions, [], QUESTION)
            floor = statistics.median(times) * 1000
            lines.append(row("python-telegram-bot echo bot", times, lost, None))
            print(lines[-1], flush=True)
            echo.terminate()
            await asyncio.to_thread(echo.wait)
            for semantic in (False, True):
                folder = base / ("hybrid" if semantic else "lexical")
                folder.mkdir()
                bot, codes = await asyncio.to_thread(
                    start_helpdesk, api, folder, semantic, args.officials
                )
                processes.append(bot)
                times, lost = await run_officials(
                    api, args.officials, args.questions, codes, QUESTION
                )
                name = f"helpdesk ({'hybrid' if semantic else 'lexical'})"
                lines.append(row(name, times, lost, floor))
                print(lines[-1], flush=True)
                bot.terminate()
                await asyncio.to_thread(bot.wait)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
    header = (
        f"{args.officials} officials writing at once, {args.questions} questions each, "
        f"through the Bot API stand-in over HTTP on loopback, {os.cpu_count()} cores "
        f"(`python -m benchmarks.telegram_roundtrip`):"
    )
    output = "\n".join([header, "", *lines]) + "\n"
    (ROOT / "benchmarks" / "TELEGRAM.md").write_text(output, encoding="utf-8")
    print(re.sub(r"\n+$", "\n", output))


if __name__ == "__main__":
    asyncio.run(main())
