"""Debian packages the test servers need (PostgreSQL, Chromium), installed by the tests
themselves when they are missing, so that a fresh machine needs no step by hand."""

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

__all__ = ["installed"]


def installed(package: str, what: str, find: Callable[[], Path | None]) -> Path:
    """What ``find`` finds, after installing ``package`` with apt-get if it finds nothing
    yet. ``what`` names it in the errors (as root only; otherwise says how)."""
    found = find()
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(
            f"{what} is not installed and cannot be installed here: "
            f"run `apt-get install {package}` as root"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        # A fresh machine may not have read the package lists yet.
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True)
        subprocess.run(install, env=env, check=True, capture_output=True)
    found = find()
    if found is None:
        raise RuntimeError(f"apt-get installed {package} but {what} was not found")
    return found
