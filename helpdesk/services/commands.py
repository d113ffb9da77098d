"""Recognising commands: ``/start CODE`` on Telegram, ``/start`` or ``!start`` on Matrix."""

import re
from dataclasses import dataclass

from helpdesk.domain.limits import MAX_ROW_ID

__all__ = ["Command", "parse_command", "parse_number"]

# ASCII digits only: "²" and "٣" pass str.isdigit() but are no ticket numbers.
_NUMBER = re.compile(r"#?([0-9]{1,10})")

# "/name@bot args": Telegram appends the bot's name to commands in groups.
_COMMAND = re.compile(r"^[/!]([A-Za-z][A-Za-z0-9_]{0,31})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)


@dataclass(frozen=True)
class Command:
    name: str  # lower case, without the prefix
    args: str  # everything after the name, stripped

    def split(self, parts: int) -> list[str]:
        """The arguments split on whitespace into at most ``parts`` pieces."""
        return self.args.split(None, parts - 1) if self.args else []

    @property
    def line(self) -> str:
        """The command as buttons write it: ``/rate 12 helpful``."""
        return f"/{self.name} {' '.join(self.args.split())}".rstrip()


def parse_command(text: str) -> Command | None:
    match = _COMMAND.match(text)
    if match is None:
        return None
    return Command(match.group(1).lower(), (match.group(2) or "").strip())


def parse_number(text: str) -> int | None:
    """``12`` or ``#12``: a number from 1 to ``MAX_ROW_ID``; None for anything else
    (other digits, signs, fractions, numbers the database cannot hold)."""
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        return None
    number = int(match[1])
    return number if 1 <= number <= MAX_ROW_ID else None
