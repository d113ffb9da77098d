"""A real Synapse homeserver on loopback for the end-to-end tests.

Synapse is installed from PyPI into its own virtual environment (.venv-synapse, beside
the project's .venv; created on first use) so that its dependencies never mix with ours.
The configuration is written by hand: client API only on 127.0.0.1, no federation,
SQLite, no stats, no key servers, registration by shared secret, rate limits raised.
"""

import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.servers.net import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-synapse"
REQUIREMENT = "matrix-synapse>=1.120"
SERVER_NAME = "helpdesk.test"

_CONFIG = """\
server_name: "{server_name}"
pid_file: "{base}/homeserver.pid"
public_baseurl: "http://127.0.0.1:{port}/"
listeners:
  - port: {port}
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{base}/homeserver.db"
log_config: "{base}/log.config"
media_store_path: "{base}/media"
signing_key_path: "{base}/signing.key"
registration_shared_secret: "{secret}"
macaroon_secret_key: "{macaroon}"
form_secret: "{form}"
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
enable_registration: false
federation_domain_whitelist: []
presence:
  enabled: false
# Cheap password hashing: every test registers and logs in several users, and the default
# (12 rounds) costs a quarter of a second of CPU each time.
bcrypt_rounds: 4
url_preview_enabled: false
rc_message: {{per_second: 1000, burst_count: 10000}}
rc_registration: {{per_second: 1000, burst_count: 10000}}
rc_login:
  address: {{per_second: 1000, burst_count: 10000}}
  account: {{per_second: 1000, burst_count: 10000}}
  failed_attempts: {{per_second: 1000, burst_count: 10000}}
rc_joins:
  local: {{per_second: 1000, burst_count: 10000}}
  remote: {{per_second: 1000, burst_count: 10000}}
rc_invites:
  per_room: {{per_second: 1000, burst_count: 10000}}
  per_user: {{per_second: 1000, burst_count: 10000}}
  per_issuer: {{per_second: 1000, burst_count: 10000}}
rc_key_requests: {{per_second: 1000, burst_count: 10000}}
rc_3pid_validation: {{per_second: 1000, burst_count: 10000}}
rc_admin_redaction: {{per_second: 1000, burst_count: 10000}}
"""

_LOG_CONFIG = """\
version: 1
formatters:
  precise:
    format: '%(asctime)s %(name)s %(levelname)s %(message)s'
handlers:
  file:
    class: logging.FileHandler
    filename: "{base}/homeserver.log"
    formatter: precise
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"""


def ensure_venv() -> Path:
    """The Synapse virtual environment, created and filled on first use."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    if python.exists() and stamp.exists() and stamp.read_text().strip() == REQUIREMENT:
        return python
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            REQUIREMENT,
        ],
        check=True,
    )
    stamp.write_text(REQUIREMENT + "\n")
    return python


@dataclass
class Homeserver:
    base: Path
    port: int
    secret: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def create(cls, base: Path) -> "Homeserver":
        base.mkdir(parents=True, exist_ok=True)
        server = cls(base, free_port(), secrets.token_hex(16))
        (base / "homeserver.yaml").write_text(
            _CONFIG.format(
                server_name=SERVER_NAME,
                base=base,
                port=server.port,
                secret=server.secret,
                macaroon=secrets.token_hex(16),
                form=secrets.token_hex(16),
            )
        )
        (base / "log.config").write_text(_LOG_CONFIG.format(base=base))
        python = ensure_venv()
        subprocess.run(
            [
                str(python),
                "-m",
                "synapse.app.homeserver",
                "--config-path",
                str(base / "homeserver.yaml"),
                "--generate-keys",
            ],
            check=True,
            cwd=base,
            capture_output=True,
        )
        return server

    def start(self) -> None:
        python = ensure_venv()
        self.process = subprocess.Popen(
            [
                str(python),
                "-m",
                "synapse.app.homeserver",
                "--config-path",
                str(self.base / "homeserver.yaml"),
            ],
            cwd=self.base,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.base / "homeserver.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"synapse exited with {self.process.returncode}:\n{log}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("synapse did not start within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def register(self, localpart: str, password: str, *, admin: bool = False) -> str:
        """A user, through the shared-secret admin API; returns the Matrix user id."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        with urllib.request.urlopen(endpoint, timeout=10) as response:
            nonce = json.load(response)["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        for part in (nonce, localpart, password, "admin" if admin else "notadmin"):
            mac.update(part.encode())
            if part != ("admin" if admin else "notadmin"):
                mac.update(b"\x00")
        body = json.dumps(
            {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            }
        ).encode()
        request = urllib.request.Request(
            endpoint, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            user_id: str = json.load(response)["user_id"]
            return user_id


if __name__ == "__main__":  # pre-install: python -m tests.servers.synapse
    print(ensure_venv())
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
