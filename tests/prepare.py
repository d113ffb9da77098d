"""Install the servers the tests start: Synapse (into .venv-synapse) and PostgreSQL
(Debian's package). Run by scripts/test before pytest, so that parallel test workers
never install at the same time; each is a no-op once done."""

from tests.servers.postgres import install_postgres
from tests.servers.synapse import ensure_venv


def main() -> None:
    print(f"synapse: {ensure_venv()}")
    print(f"postgresql: {install_postgres()}")


if __name__ == "__main__":
    main()
