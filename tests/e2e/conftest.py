"""End-to-end tests against a real Synapse homeserver on loopback, with the bot running as
``python bot.py`` in a subprocess and test users driving plain matrix-nio clients."""

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinedMembersResponse,
    LoginResponse,
    RoomCreateResponse,
    RoomMessagesResponse,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
)

from helpdesk.knowledge_files import write_entries
from tests.servers.postgres import find_bin_dir, scratch_database
from tests.servers.synapse import Homeserver
from tests.support import ENTRIES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homeserver]:
    server = Homeserver.create(tmp_path_factory.mktemp("synapse"))
    server.start()
    yield server
    server.stop()


class MatrixUser:
    """A person in a Matrix client: opens a direct chat with the bot, writes, reads."""

    def __init__(
        self, server: Homeserver, user_id: str, password: str, store: Path, encrypted: bool = False
    ) -> None:
        self.user_id = user_id
        self.password = password
        self.encrypted = encrypted
        store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            server.url,
            user_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=encrypted),
        )
        self.room_id: str | None = None
        self.received: list[RoomMessageText] = []
        # A sync can repeat an event (a limited timeline, a retried request): count it once.
        self._seen: set[str] = set()

    async def login(self) -> None:
        response = await self.client.login(self.password)
        assert isinstance(response, LoginResponse), response
        await self._sync(wait_ms=0)

    async def open_chat(self, bot_id: str) -> None:
        initial_state = []
        if self.encrypted:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        created = await self.client.room_create(
            is_direct=True,
            invite=[bot_id],
            preset=RoomPreset.trusted_private_chat,
            initial_state=initial_state,
        )
        assert isinstance(created, RoomCreateResponse), created
        self.room_id = created.room_id
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            members = await self.client.joined_members(self.room_id)
            if isinstance(members, JoinedMembersResponse) and any(
                m.user_id == bot_id for m in members.members
            ):
                await self._sync(wait_ms=0)
                return
            await asyncio.sleep(0.2)
        raise AssertionError("the bot did not join the direct chat")

    async def say(self, text: str, reply_to: str | None = None) -> str:
        assert self.room_id is not None
        content: dict[str, object] = {"msgtype": "m.text", "body": text}
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        sent = await self.client.room_send(
            self.room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        assert isinstance(sent, RoomSendResponse), sent
        return str(sent.event_id)

    async def react(self, event_id: str, key: str) -> None:
        assert self.room_id is not None
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        sent = await self.client.room_send(
            self.room_id, "m.reaction", content, ignore_unverified_devices=True
        )
        assert isinstance(sent, RoomSendResponse), sent

    async def expect(self, words: str, within: float = 30.0) -> RoomMessageText:
        """The next message from the bot containing ``words`` (others are kept)."""
        deadline = time.monotonic() + within
        while True:
            for message in self.received:
                if words in message.body:
                    self.received.remove(message)
                    return message
            if time.monotonic() > deadline:
                bodies = [m.body[:120] for m in self.received]
                raise AssertionError(f"no message with {words!r}; got {bodies}")
            await self._sync(wait_ms=1000)

    async def messages(self, settle: float = 3.0) -> list[RoomMessageText]:
        """Everything the bot sent, after waiting ``settle`` seconds for more."""
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            await self._sync(wait_ms=500)
        received, self.received = self.received, []
        return received

    async def _sync(self, wait_ms: int) -> None:
        since = self.client.next_batch
        response = await self.client.sync(timeout=wait_ms)
        assert isinstance(response, SyncResponse), response
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.should_claim_keys:
            await self.client.keys_claim(self.client.get_users_for_key_claiming())
        for room in response.rooms.invite:
            await self.client.join(room)
        for room_id, info in response.rooms.join.items():
            events = list(info.timeline.events)
            if info.timeline.limited and since:
                # More arrived than a sync holds: read the rest like a client scrolling up.
                token, missed = info.timeline.prev_batch, []
                while token:
                    page = await self.client.room_messages(room_id, token, since, limit=100)
                    assert isinstance(page, RoomMessagesResponse), page
                    missed += page.chunk
                    token = page.end if page.chunk and page.end != token else None
                events = list(reversed(missed)) + events
            for event in events:
                new = event.event_id not in self._seen
                if isinstance(event, RoomMessageText) and event.sender != self.user_id and new:
                    self._seen.add(event.event_id)
                    self.received.append(event)

    async def close(self) -> None:
        await self.client.close()


class BotProcess:
    """``python bot.py`` on its own database and knowledge folder, configured by ``env``."""

    def __init__(self, base: Path, env: dict[str, str]) -> None:
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        write_entries(ENTRIES, base / "knowledge")
        self.env = {
            **os.environ,
            "HELPDESK_DATABASE_URL": scratch_database(base),
            "HELPDESK_KNOWLEDGE_DIR": str(base / "knowledge"),
            "HELPDESK_SEMANTIC_MATCHING": "false",
            "HELPDESK_LOG_LEVEL": "INFO",
            # Bots run side by side in the suite: none takes the web console's fixed port
            # (the console has tests of its own, on ports of their own).
            "HELPDESK_WEB_PORT": "0",
        }
        for name in list(self.env):
            if name.startswith(("HELPDESK_TELEGRAM_", "HELPDESK_MATRIX_")) or name == (
                "HELPDESK_CONFIG"
            ):
                self.env.pop(name)
        self.env.update(env)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = base / "bot.log"
        # No `kb import`: the bot imports HELPDESK_KNOWLEDGE_DIR itself into an empty base.

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "helpdesk", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    async def invite(self, role: str, *extra: str) -> str:
        """A new invitation code (`helpdesk invite create`, the last line it prints)."""
        out = await self.cli_in_process("invite", "create", "--role", role, *extra)
        return out.strip().splitlines()[-1]

    async def cli_in_process(self, *args: str) -> str:
        """``helpdesk ARGS`` run in a thread of this process, with the bot's settings.
        For setting things up: a subprocess costs a second of CPU each time, and
        tests/integration/test_cli.py runs the command in subprocesses as staff do."""
        from click.testing import CliRunner

        from helpdesk.cli import main

        ours = {name: None for name in os.environ if name.startswith("HELPDESK_")}
        ours.update({k: v for k, v in self.env.items() if k.startswith("HELPDESK_")})
        done = await asyncio.to_thread(CliRunner().invoke, main, list(args), env=ours)
        assert done.exit_code == 0, (done.output, done.exception)
        return done.output

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "bot.py")], env=self.env, stdout=log, stderr=log
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def sql(self, query: str) -> list[tuple[object, ...]]:
        """Rows of a query on the bot's database, SQLite or PostgreSQL (through psql;
        whole numbers come back as int, everything else as text)."""
        url = self.env["HELPDESK_DATABASE_URL"]
        if url.startswith("postgresql"):
            bin_dir = find_bin_dir()
            assert bin_dir is not None
            done = subprocess.run(
                [str(bin_dir / "psql"), "-X", "-A", "-t", "-F", "\t", "-c", query, url],
                capture_output=True,
                text=True,
                check=True,
            )
            return [
                tuple(int(v) if v.lstrip("-").isdecimal() else v for v in line.split("\t"))
                for line in done.stdout.splitlines()
            ]
        import sqlite3

        with sqlite3.connect(self.base / "helpdesk.db") as db:
            return db.execute(query).fetchall()


class Bot(BotProcess):
    """The bot with the Matrix adapter, as a fresh Matrix user of the test homeserver."""

    def __init__(self, server: Homeserver, base: Path) -> None:
        self.server = server
        localpart = f"helpdesk-{secrets.token_hex(3)}"
        self.password = secrets.token_hex(8)
        self.user_id = server.register(localpart, self.password)
        super().__init__(
            base,
            {
                "HELPDESK_MATRIX_HOMESERVER": server.url,
                "HELPDESK_MATRIX_USER_ID": self.user_id,
                "HELPDESK_MATRIX_PASSWORD": self.password,
                "HELPDESK_MATRIX_STORE_PATH": str(base / "matrix-store"),
            },
        )


@pytest.fixture
def bot(homeserver: Homeserver, tmp_path: Path, engine: str) -> Iterator[Bot]:
    running = Bot(homeserver, tmp_path / "bot")
    yield running
    running.stop()


class People:
    """Fresh Matrix users for a test (not yet logged in)."""

    def __init__(self, server: Homeserver, base: Path) -> None:
        self.server = server
        self.base = base
        self.users: list[MatrixUser] = []

    def make(self, name: str, *, encrypted: bool = False) -> MatrixUser:
        password = secrets.token_hex(8)
        user_id = self.server.register(f"{name}-{secrets.token_hex(3)}", password)
        user = MatrixUser(self.server, user_id, password, self.base / f"store-{user_id}", encrypted)
        self.users.append(user)
        return user

    async def close(self) -> None:
        for user in self.users:
            await user.close()


@pytest.fixture
async def people(homeserver: Homeserver, tmp_path: Path) -> AsyncIterator[People]:
    crowd = People(homeserver, tmp_path)
    yield crowd
    await crowd.close()
