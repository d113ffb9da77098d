#!/usr/bin/env python3
"""Run the helpdesk: every configured chat adapter, or the console chat when none is.

On a machine where the dependencies are missing, the first run installs them into ./.venv
and starts again from there.
"""

import sys
from pathlib import Path

if sys.version_info < (3, 11):  # noqa: UP036 - runs under whatever python3 is installed
    sys.exit("The helpdesk needs Python 3.11 or newer.")

try:
    from helpdesk.runner import main
except ImportError as missing:
    from helpdesk._environment import restart_in_project_venv

    restart_in_project_venv([str(Path(__file__).resolve()), *sys.argv[1:]], missing)

if __name__ == "__main__":
    sys.exit(main())
