"""Nothing happens at import time. (Which module may import which is checked by
lint-imports, with the contracts in pyproject.toml.)"""

import subprocess
import sys
from pathlib import Path


def test_nothing_is_built_at_import_time(tmp_path: Path) -> None:
    """Importing every module, in a fresh interpreter, creates no database file."""
    script = (
        "import importlib, pkgutil, helpdesk\n"
        "for m in pkgutil.walk_packages(helpdesk.__path__, 'helpdesk.'):\n"
        "    if m.name != 'helpdesk.__main__':\n"
        "        importlib.import_module(m.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []
