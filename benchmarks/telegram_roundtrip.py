"""Round trip through a Bot API server over HTTP: an official writes, how long until the
reply arrives?

    .venv/bin/python -m benchmarks.telegram_roundtrip [--officials 50] [--questions 5]

The same Bot API stand-in (tests/servers/telegram/, real HTTP on loopback), in the same
run, serves this helpdesk bot (``python bot.py``, lexical and hybrid matching) and a bare
python-telegram-bot echo bot (the floor: what any PTB bot costs). Every official writes at
the same time, each waiting for the reply before the next question. The questions are the
labelled set's (tests/data/questions.jsonl), each official starting at a different one: a
realistic mix, most of which the hybrid matcher cannot settle without the model. The clock
runs from the moment the message is queued for the bot to the moment the server receives
the bot's ``sendMessage``. Five experts have joined as well, as at a hub: a question the
base cannot answer becomes a ticket routed to one of them and told to them. Reported:
p50/p95 of the round trip, the ratio to the echo bot, messages lost, the bot process's
CPU per message (user + system, from /proc, over the questions only), SQL statements a
question (from the bot's /metrics), and for the hybrid row the share of the questions that
needed the model (those the lexical scores alone do not settle).
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
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import project_entries, project_questions
from benchmarks.matrix_roundtrip import _invites, row
from helpdesk.domain.languages import SUPPORTED_LANGUAGES
from helpdesk.matching.decision import HYBRID_POLICY
from helpdesk.matching.fuzzy import FuzzyMatcher
from helpdesk.matching.hybrid import HybridWeights
from helpdesk.matching.normalize import normalize_text
from tests.servers.net import free_port
from tests.servers.telegram import BotApiServer, SimUser

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "424242:" + "E" * 35
# Experts who take the tickets, in every language, with room for all of them (nobody
# answers during the run): an escalation costs what it costs at a hub.
EXPERTS = 5

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


def questions_for(official: int, count: int) -> list[str]:
    """The labelled questions one official asks: each starts at a different one."""
    labelled = [q.question for q in project_questions()]
    start = official * count
    return [labelled[(start + k) % len(labelled)] for k in range(count)]


def model_share(texts: list[str]) -> float:
    """The share of ``texts`` the hybrid matcher embeds: those whose lexical scores are
    not decisive (HybridMatcher.components), decided without loading the model."""
    lexical = FuzzyMatcher(project_entries(), HYBRID_POLICY)
    weights = HybridWeights()
    needed = 0
    for text in texts:
        scores = sorted(lexical.entry_scores(normalize_text(text)), reverse=True)
        best, runner_up = scores[0], scores[1] if len(scores) > 1 else 0.0
        decisive = best >= weights.decisive and best - runner_up >= weights.decisive_margin
        needed += not decisive
    return needed / len(texts)


def statements(metrics_port: int) -> float:
    """SQL statements the bot has sent so far, from its /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as page:
        figures = page.read().decode()
    found = re.search(r"^helpdesk_database_statements_total (\S+)$", figures, re.M)
    assert found is not None, "no statement count in /metrics"
    return float(found[1])


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """User and system CPU the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_officials(
    api: BotApiServer,
    count: int,
    questions: int,
    codes: list[str],
    bot: subprocess.Popen[bytes],
    expert_codes: Sequence[str] = (),
    metrics_port: int | None = None,
) -> tuple[list[float], int, float, int, float | None]:
    """Round trips and messages lost, the bot's CPU seconds per question, how many
    messages the experts were sent (their welcome aside), and SQL statements a question
    (with the bot's /metrics on ``metrics_port``)."""
    officials = [api.user(f"Official {i}") for i in range(count)]
    experts = [api.user(f"Expert {i}") for i in range(len(expert_codes))]
    joining = [*zip(officials, codes, strict=False), *zip(experts, expert_codes, strict=True)]
    if joining:
        answers = await asyncio.gather(*(ask(api, who, f"/start {c}") for who, c in joining))
        assert all(a is not None for a in answers), "registration lost"
        for expert in experts:  # the rest of their welcome, if it came in parts
            await api.settle(expert.id, 0.2)

    async def one(index: int, official: SimUser) -> list[float | None]:
        texts = questions_for(index, questions)
        return [await ask(api, official, text) for text in texts]

    sent = await asyncio.to_thread(statements, metrics_port) if metrics_port else None
    cpu = cpu_seconds(bot)
    asked = await asyncio.gather(*(one(i, o) for i, o in enumerate(officials)))
    cpu = cpu_seconds(bot) - cpu
    results = [r for rs in asked for r in rs]
    if metrics_port and sent is not None:
        sent = (await asyncio.to_thread(statements, metrics_port) - sent) / len(results)
    times = [r for r in results if r is not None]
    told = [len(await api.settle(expert.id, 0)) for expert in experts]
    return times, len(results) - len(times), cpu / len(results), sum(told), sent


def helpdesk_env(
    api: BotApiServer, base: Path, semantic: bool, metrics_port: int | None = None
) -> dict[str, str]:
    return {
        **({"HELPDESK_METRICS_PORT": str(metrics_port)} if metrics_port else {}),
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
    api: BotApiServer, folder: Path, semantic: bool, officials: int, metrics_port: int
) -> tuple[subprocess.Popen[bytes], list[str], list[str]]:
    """The bot on a fresh database with the knowledge base, and invitation codes for the
    officials and for the experts."""
    env = helpdesk_env(api, folder, semantic, metrics_port)
    subprocess.run(
        [sys.executable, "-m", "helpdesk", "kb", "import", str(ROOT / "knowledge")],
        env=env,
        check=True,
        capture_output=True,
    )
    codes = _invites(env["HELPDESK_DATABASE_URL"], officials)
    expert_codes = _invites(
        env["HELPDESK_DATABASE_URL"],
        EXPERTS,
        role="expert",
        languages=SUPPORTED_LANGUAGES,
        capacity=100_000,
    )
    log = (folder / "bot.log").open("ab")
    polls = api.calls["getUpdates"]
    bot = subprocess.Popen([sys.executable, str(ROOT / "bot.py")], env=env, stdout=log, stderr=log)
    wait_until_polling(api, polls)
    return bot, codes, expert_codes


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officials", type=int, default=50)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--matching", choices=["lexical", "hybrid", "both"], default="both")
    args = parser.parse_args()
    semantics = {"lexical": [False], "hybrid": [True], "both": [False, True]}[args.matching]
    base = Path(tempfile.mkdtemp(prefix="telegram-roundtrip-"))
    lines = [
        "| bot | messages | p50 ms | p95 ms | p50 vs echo | lost | CPU ms/message "
        "| statements/question |",
        "|---|---|---|---|---|---|---|---|",
    ]
    processes: list[subprocess.Popen[bytes]] = []
    notes: list[str] = []
    texts = [t for i in range(args.officials) for t in questions_for(i, args.questions)]
    share = model_share(texts)
    with BotApiServer(TOKEN) as api:
        try:
            echo = await asyncio.to_thread(start_echo, api)
            processes.append(echo)
            times, lost, cpu, _, _ = await run_officials(
                api, args.officials, args.questions, [], echo
            )
            floor = statistics.median(times) * 1000
            echo_row = row("python-telegram-bot echo bot", times, lost, None)
            lines.append(f"{echo_row} {cpu * 1000:.1f} | – |")
            print(lines[-1], flush=True)
            echo.terminate()
            await asyncio.to_thread(echo.wait)
            for semantic in semantics:
                folder = base / ("hybrid" if semantic else "lexical")
                folder.mkdir()
                metrics_port = free_port()
                bot, codes, expert_codes = await asyncio.to_thread(
                    start_helpdesk, api, folder, semantic, args.officials, metrics_port
                )
                processes.append(bot)
                times, lost, cpu, told, sent = await run_officials(
                    api, args.officials, args.questions, codes, bot, expert_codes, metrics_port
                )
                name = f"helpdesk ({'hybrid' if semantic else 'lexical'})"
                lines.append(f"{row(name, times, lost, floor)} {cpu * 1000:.1f} | {sent:.1f} |")
                print(lines[-1], flush=True)
                notes.append(f"{name}: {told} messages to the experts.")
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
    footer = (
        f"The questions: {len(texts)} from the labelled set; the hybrid matcher needed the "
        f"model for {share:.0%} of them (the rest its lexical scores settle alone). "
        f"{EXPERTS} experts take the tickets; {' '.join(notes)}"
    )
    output = "\n".join([header, "", *lines, "", footer]) + "\n"
    (ROOT / "benchmarks" / "TELEGRAM.md").write_text(output, encoding="utf-8")
    print(re.sub(r"\n+$", "\n", output))


if __name__ == "__main__":
    asyncio.run(main())
