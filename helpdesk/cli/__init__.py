"""The ``helpdesk`` command: knowledge base, matching, invitations, experts, tickets, stats.

One module per command group; every failure a user can cause (bad URL, missing file, bad
argument) is one line on stderr and a non-zero exit code, never a traceback
(``_common.run_app``).
"""

import logging

import click

from helpdesk.cli.asking import ask, evaluate_command
from helpdesk.cli.audit import audit_list
from helpdesk.cli.database import db
from helpdesk.cli.invites import invite
from helpdesk.cli.knowledge import kb
from helpdesk.cli.outbox import outbox
from helpdesk.cli.people import expert, person
from helpdesk.cli.reports import report, stats
from helpdesk.cli.tickets import ticket
from helpdesk.web_commands import web

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="helpdesk")
def main() -> None:
    """The hub's helpdesk: knowledge base, matching, invitations, experts and tickets.

    The database comes from HELPDESK_DATABASE_URL (default: sqlite:///helpdesk.db).
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


for command in (
    kb,
    ask,
    evaluate_command,
    invite,
    expert,
    person,
    audit_list,
    ticket,
    outbox,
    stats,
    report,
    db,
    web,  # the web console's commands live with its wiring
):
    main.add_command(command)
