"""A real PostgreSQL server on loopback for the tests, installed and started by the tests.

The server comes from Debian's ``postgresql`` package; when its programs are missing and
we may install packages (root), ``apt-get`` installs it. The cluster is made by ``initdb``
in a temporary folder and listens on 127.0.0.1 only, on a free port. Durability is turned
off (fsync, synchronous_commit): the cluster is thrown away after the run, and tests
measure behaviour, not the disk.

PostgreSQL refuses to run as root; as root, the server runs as the ``postgres`` account
that the Debian package creates.

Each test gets its own database, copied from a template that already holds the schema,
so a test starts from an empty, current database in a few milliseconds.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.debian import installed
from tests.servers.net import free_port

__all__ = [
    "ENGINES",
    "TEMPLATE",
    "PostgresServer",
    "find_bin_dir",
    "install_postgres",
    "scratch_database",
    "use_engine",
]

# A database with the current schema, copied for every test that asks for PostgreSQL.
TEMPLATE = "helpdesk_template"
# The engines that tests using the `engine` fixture run on, once each: both, unless
# HELPDESK_TEST_DATABASE names one (a quicker run while working on something else).
ENGINES: tuple[str, ...] = (
    (os.environ["HELPDESK_TEST_DATABASE"],)
    if os.environ.get("HELPDESK_TEST_DATABASE")
    else ("sqlite", "postgresql")
)
_current: "PostgresServer | None" = None
_engine = ENGINES[0]  # what scratch_database() makes; the `engine` fixture sets it per test
_sqlite_template: Path | None = None


def use_engine(name: str, sqlite_template: Path | None = None) -> None:
    """Where the following scratch databases live (tests run one at a time per process).
    ``sqlite_template``, a migrated SQLite file, is copied instead of migrating each one."""
    global _engine, _sqlite_template
    if name not in ("sqlite", "postgresql"):
        raise ValueError(f"HELPDESK_TEST_DATABASE is sqlite or postgresql, not {name!r}")
    _engine = name
    if sqlite_template is not None:
        _sqlite_template = sqlite_template


def scratch_database(folder: Path, name: str = "helpdesk.db") -> str:
    """A new, empty-but-migrated database for one test, on the engine of that test."""
    if _engine == "sqlite":
        if _sqlite_template is not None:
            shutil.copyfile(_sqlite_template, folder / name)
        return f"sqlite:///{folder / name}"
    if _current is None:
        raise RuntimeError("PostgreSQL is asked for, but no PostgreSQL server runs")
    return _current.new_database(template=TEMPLATE)


_PACKAGE = "postgresql"


def find_bin_dir() -> Path | None:
    """The newest installed server's bin folder (Debian keeps them per major version)."""
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return None
    versions = sorted(
        (p for p in root.iterdir() if (p / "bin" / "postgres").exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
    )
    return versions[-1] / "bin" if versions else None


def install_postgres() -> Path:
    """Debian's server package, installed when it is not there yet."""
    return installed(_PACKAGE, "PostgreSQL", find_bin_dir)


@dataclass
class PostgresServer:
    base: Path
    bin_dir: Path
    port: int = field(default_factory=free_port)
    user: str = "helpdesk"
    _process: subprocess.Popen[bytes] | None = None
    _template_ready: bool = False

    @property
    def data(self) -> Path:
        return self.base / "data"

    def _as_server_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return ["runuser", "-u", "postgres", "--", *argv]

    @classmethod
    def create(cls) -> "PostgresServer":
        """A new cluster in its own temporary folder (pytest's folders are closed to the
        ``postgres`` account); ``stop`` removes it."""
        base = Path(tempfile.mkdtemp(prefix="helpdesk-postgres-"))
        server = cls(base=base, bin_dir=install_postgres())
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(base, account.pw_uid, account.pw_gid)
            # runuser keeps the working folder: it must be one postgres may enter.
            os.chmod(base, 0o700)
        subprocess.run(
            server._as_server_user(
                [
                    str(server.bin_dir / "initdb"),
                    "-D",
                    str(server.data),
                    "-U",
                    server.user,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            cwd="/",
        )
        return server

    def start(self) -> None:
        global _current
        _current = self
        options = [
            "-c", f"port={self.port}",
            "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={self.base}",
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", "max_connections=200",
        ]  # fmt: skip
        with (self.base / "server.log").open("ab") as log:
            self._process = subprocess.Popen(
                self._as_server_user(
                    [str(self.bin_dir / "postgres"), "-D", str(self.data), *options]
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd="/",
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    "PostgreSQL stopped at start:\n" + (self.base / "server.log").read_text()
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("PostgreSQL did not open its port within 30 s")
        # The port opens a moment before the server accepts sessions.
        while time.monotonic() < deadline:
            if self.psql("select 1", check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not accept connections within 30 s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()  # SIGTERM: PostgreSQL's "smart" shutdown
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def psql(
        self, sql: str, database: str = "postgres", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                database,
                "-c",
                sql,
            ],
            check=check,
            capture_output=True,
            text=True,
        )

    def new_database(self, template: str | None = None) -> str:
        """A fresh database (a copy of ``template`` if given); returns its URL."""
        name = "t_" + uuid.uuid4().hex[:16]
        clause = f" TEMPLATE {template}" if template else ""
        self.psql(f"CREATE DATABASE {name}{clause}")
        return self.url(name)
