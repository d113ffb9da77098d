#!/usr/bin/env python3
"""Create ./.venv and install the project with its test and benchmark tools, once per change
of pyproject.toml.

Standard library only: this runs before anything is installed. Prints the venv's python.
"""

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed"


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - runs under whatever python3 is installed
        print("The helpdesk needs Python 3.11 or newer.", file=sys.stderr)
        return 1
    python = VENV / "bin" / "python"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        print(python)
        return 0
    if not python.exists():
        print("Creating .venv (first run only)...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing the helpdesk and its dependencies into .venv...", file=sys.stderr)
    quiet = ["--quiet", "--disable-pip-version-check"]
    steps = [
        [str(python), "-m", "pip", "install", *quiet, "--upgrade", "pip"],
        [str(python), "-m", "pip", "install", *quiet, "--editable", f"{ROOT}[test,bench]"],
    ]
    log = VENV / "install.log"
    with log.open("w") as output:
        for step in steps:
            done = subprocess.run(step, stdout=output, stderr=subprocess.STDOUT, check=False)
            if done.returncode != 0:
                print(log.read_text()[-4000:], file=sys.stderr)
                print(f"failed: {' '.join(step)} (whole log: {log})", file=sys.stderr)
                return done.returncode
    STAMP.write_text(digest + "\n")
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
