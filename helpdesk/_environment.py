"""Running from a fresh source checkout: install the dependencies into ./.venv, then start
again from there. Standard library only, since it runs before anything is installed."""

import os
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

__all__ = ["restart_in_project_venv"]

_ROOT = Path(__file__).resolve().parent.parent
_ENSURE = _ROOT / "scripts" / "ensure_venv.py"
_MARK = "HELPDESK_BOOTSTRAPPED"


def restart_in_project_venv(args: list[str], error: ImportError) -> NoReturn:
    """Re-run ``python ARGS`` with the project's venv, creating it first if needed.

    Outside a source checkout, or if the venv still lacks a dependency, report the
    missing module instead of trying again.
    """
    if os.environ.get(_MARK) or not _ENSURE.is_file():
        print(
            f"A dependency is missing: {error.name or error}. Install the helpdesk with "
            "`pip install .` or run `python3 scripts/ensure_venv.py`.",
            file=sys.stderr,
        )
        raise SystemExit(1)
    found = subprocess.run(
        [sys.executable, str(_ENSURE)], stdout=subprocess.PIPE, text=True, check=False
    )
    if found.returncode != 0:
        raise SystemExit(found.returncode)
    python = found.stdout.strip().splitlines()[-1]
    os.environ[_MARK] = "1"
    os.execv(python, [python, *args])
