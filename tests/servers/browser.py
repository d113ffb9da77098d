"""Chromium for the web console's browser tests, from Debian's ``chromium`` package:
installed by the test script as PostgreSQL is, and driven by Playwright through
``executable_path``. Playwright never downloads a browser here."""

import shutil
from pathlib import Path

from tests.servers.debian import installed

__all__ = ["CHROMIUM", "find_chromium", "install_chromium"]

_PACKAGE = "chromium"
CHROMIUM = Path("/usr/bin/chromium")


def find_chromium() -> Path | None:
    """The installed browser, if there is one."""
    if CHROMIUM.is_file():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


def install_chromium() -> Path:
    """Debian's browser package, installed when it is not there yet."""
    return installed(_PACKAGE, "Chromium", find_chromium)
