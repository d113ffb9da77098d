"""Round trip through a real Synapse: an official writes, how long until the reply arrives?

    .venv/bin/python -m benchmarks.matrix_roundtrip [--officials 50] [--questions 5]

The same server, in the same run, serves this helpdesk bot (``python bot.py``, lexical and
hybrid matching) and a bare matrix-nio echo bot (the floor: what any bot costs). Every
official writes at the same time, each waiting for the reply before the next question.
Reported: p50/p95 of the round trip, the ratio to the echo bot, and messages lost.
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
from pathlib import Path

from nio import AsyncClient, LoginResponse, RoomCreateResponse, RoomMessageText, RoomPreset

from tests.servers.synapse import Homeserver

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How do we set up a local safety council in our municipality?"

ECHO_BOT = """
import asyncio, sys
from nio import AsyncClient, RoomMessageText
async def main():
    client = AsyncClient(sys.argv[1], sys.argv[2])
    await client.login(sys.argv[3])
    first = await client.sync(timeout=0, full_state=True)
    since = first.next_batch
    while True:
        response = await client.sync(timeout=30000, since=since)
        since = response.next_batch
        for room_id in response.rooms.invite:
            await client.join(room_id)
        for room_id, info in response.rooms.join.items():
            for event in info.timeline.events:
                if isinstance(event, RoomMessageText) and event.sender != client.user_id:
                    await client.room_send(room_id, "m.room.message",
                                           {"msgtype": "m.text", "body": event.body})
asyncio.run(main())
"""


class Official:
    def __init__(self, server: Homeserver, name: str) -> None:
        self.password = secrets.token_hex(8)
        self.user_id = server.register(name, self.password)
        self.client = AsyncClient(server.url, self.user_id)
        self.room_id = ""
        self.since: str | None = None

    async def open_chat(self, bot_id: str) -> None:
        assert isinstance(await self.client.login(self.password), LoginResponse)
        created = await self.client.room_create(
            is_direct=True, invite=[bot_id], preset=RoomPreset.trusted_private_chat
        )
        assert isinstance(created, RoomCreateResponse), created
        self.room_id = created.room_id
        while True:
            members = await self.client.joined_members(self.room_id)
            if any(m.user_id == bot_id for m in getattr(members, "members", [])):
                break
            await asyncio.sleep(0.2)
        self.since = (await self.client.sync(timeout=0)).next_batch

    async def ask(self, text: str, bot_id: str, wait: float = 60.0) -> float | None:
        """Seconds until the bot's next message, or None if none came."""
        started = time.perf_counter()
        await self.client.room_send(
            self.room_id, "m.room.message", {"msgtype": "m.text", "body": text}
        )
        deadline = started + wait
        while time.perf_counter() < deadline:
            response = await self.client.sync(timeout=5000, since=self.since)
            self.since = response.next_batch
            room = response.rooms.join.get(self.room_id)
            events = room.timeline.events if room else []
            if any(isinstance(e, RoomMessageText) and e.sender == bot_id for e in events):
                return time.perf_counter() - started
        return None


async def run_officials(
    server: Homeserver, bot_id: str, count: int, questions: int, first: str, text: str
) -> tuple[list[float], int]:
    officials = [Official(server, f"official-{secrets.token_hex(4)}") for _ in range(count)]
    await asyncio.gather(*(o.open_chat(bot_id) for o in officials))
    if first:
        codes = _invites(first, count)
        answers = await asyncio.gather(
            *(o.ask(f"/start {c}", bot_id) for o, c in zip(officials, codes, strict=True))
        )
        assert all(a is not None for a in answers), "registration lost"

    async def one(official: Official) -> list[float | None]:
        return [await official.ask(text, bot_id) for _ in range(questions)]

    results = [r for rs in await asyncio.gather(*(one(o) for o in officials)) for r in rs]
    for official in officials:
        await official.client.close()
    times = [r for r in results if r is not None]
    return times, len(results) - len(times)


def _invites(
    database_url: str,
    count: int,
    role: str = "official",
    languages: tuple[str, ...] = ("en",),
    capacity: int = 3,
) -> list[str]:
    """``count`` invitation codes for people of ``role``, written straight to the database."""
    script = (
        "import asyncio, sys\n"
        "from datetime import timedelta\n"
        "from helpdesk.bootstrap import bootstrap\n"
        "from helpdesk.settings import load_settings\n"
        "from helpdesk.domain.invites import Invite, hash_code, new_code\n"
        "from helpdesk.domain.people import Role\n"
        "async def main():\n"
        "    app = await bootstrap(load_settings())\n"
        "    async with app.uow() as uow:\n"
        f"        for _ in range({count}):\n"
        "            code = new_code(); now = app.clock()\n"
        f"            await uow.invites.add(Invite(code_hash=hash_code(code), role=Role({role!r}),"
        f" created_at=now, expires_at=now + timedelta(days=1), languages={languages!r},"
        f" capacity={capacity}))\n"
        "            print(code)\n"
        "        await uow.commit()\n"
        "    await app.close()\n"
        "asyncio.run(main())\n"
    )
    env = {
        **os.environ,
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_SEMANTIC_MATCHING": "false",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def start_helpdesk(
    server: Homeserver, base: Path, semantic: bool
) -> tuple[subprocess.Popen[bytes], str, str]:
    password = secrets.token_hex(8)
    bot_id = server.register(f"helpdesk-{secrets.token_hex(3)}", password)
    database = f"sqlite:///{base / 'helpdesk.db'}"
    env = {
        **os.environ,
        "HELPDESK_DATABASE_URL": database,
        "HELPDESK_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
        "HELPDESK_SEMANTIC_MATCHING": "true" if semantic else "false",
        "HELPDESK_MATRIX_HOMESERVER": server.url,
        "HELPDESK_MATRIX_USER_ID": bot_id,
        "HELPDESK_MATRIX_PASSWORD": password,
        "HELPDESK_MATRIX_STORE_PATH": str(base / "store"),
        "HELPDESK_LOG_LEVEL": "WARNING",
    }
    log = (base / "bot.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py")], env=env, stdout=log, stderr=log
    )
    return process, bot_id, database


def start_echo(server: Homeserver, user_id: str, password: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", ECHO_BOT, server.url, user_id, password])


def row(name: str, times: list[float], lost: int, floor: float | None) -> str:
    ordered = sorted(times)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[int(0.95 * (len(ordered) - 1))] * 1000
    ratio = f"{p50 / floor:.2f}×" if floor else "1.00×"
    return f"| {name} | {len(times) + lost} | {p50:.0f} | {p95:.0f} | {ratio} | {lost} |"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officials", type=int, default=50)
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="roundtrip-"))
    server = Homeserver.create(base / "synapse")
    server.start()
    lines = [
        "| bot | messages | p50 ms | p95 ms | p50 vs echo | lost |",
        "|---|---|---|---|---|---|",
    ]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        password = secrets.token_hex(8)
        echo_id = server.register(f"echo-{secrets.token_hex(3)}", password)
        processes.append(start_echo(server, echo_id, password))
        await asyncio.sleep(2)
        times, lost = await run_officials(
            server, echo_id, args.officials, args.questions, "", QUESTION
        )
        floor = statistics.median(times) * 1000
        lines.append(row("matrix-nio echo bot", times, lost, None))
        print(lines[-1], flush=True)
        for semantic in (False, True):
            folder = base / ("hybrid" if semantic else "lexical")
            folder.mkdir()
            process, bot_id, database = start_helpdesk(server, folder, semantic)
            processes.append(process)
            await asyncio.sleep(45 if semantic else 5)  # first start: import, embed
            times, lost = await run_officials(
                server, bot_id, args.officials, args.questions, database, QUESTION
            )
            name = f"helpdesk ({'hybrid' if semantic else 'lexical'})"
            lines.append(row(name, times, lost, floor))
            print(lines[-1], flush=True)
    finally:
        for process in processes:
            process.terminate()
        server.stop()
    header = (
        f"{args.officials} officials writing at once, {args.questions} questions each, "
        f"one Synapse on loopback, {os.cpu_count()} cores "
        f"(`python -m benchmarks.matrix_roundtrip`):"
    )
    output = "\n".join([header, "", *lines]) + "\n"
    (ROOT / "benchmarks" / "MATRIX.md").write_text(output, encoding="utf-8")
    print(output)


if __name__ == "__main__":
    asyncio.run(main())
