"""Install the servers the tests start: Synapse (into .venv-synapse), PostgreSQL and
Chromium for the web console's browser tests (Debian's packages). Run by scripts/test
before pytest, so that parallel test workers never install at the same time; each is a
no-op once done."""

from tests.servers.browser import install_chromium
from tests.servers.postgres import install_postgres
from tests.servers.synapse import ensure_venv


def main() -> None:
    print(f"synapse: {ensure_venv()}")
    print(f"postgresql: {install_postgres()}")
    print(f"chromium: {install_chromium()}")


if __name__ == "__main__":
    main()
