"""``python -m helpdesk`` is the ``helpdesk`` command."""

import sys

try:
    from helpdesk.cli import main
except ImportError as missing:  # a fresh checkout: dependencies not installed yet
    from helpdesk._environment import restart_in_project_venv

    restart_in_project_venv(["-m", "helpdesk", *sys.argv[1:]], missing)

main()
