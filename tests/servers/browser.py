"""Chromium for the web console's browser tests, from Debian's ``chromium`` package:
installed by the test script as PostgreSQL is, and driven by Playwright through
``executable_path``. Playwright never downloads a browser here."""

import os
import shutil
import subprocess
from pathlib import Path

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
    found = find_chromium()
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(
            "Chromium is not installed and cannot be installed here: "
            f"run `apt-get install {_PACKAGE}` as root"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", _PACKAGE]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True)
        subprocess.run(install, env=env, check=True, capture_output=True)
    found = find_chromium()
    if found is None:
        raise RuntimeError(f"apt-get installed {_PACKAGE} but no chromium binary was found")
    return found
