"""Recognising commands: ``/start CODE`` on Telegram, ``/start`` or ``!start`` on Matrix."""

import re
from dataclasses import dataclass

__all__ = ["Command", "parse_command"]

# "/name@bot args": Telegram appends the bot's name to commands in groups.
_COMMAND = re.compile(r"^[/!]([A-Za-z][A-Za-z0-9_]{0,31})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)


@dataclass(frozen=True)
class Command:
    name: str  # lower case, without the prefix
    args: str  # everything after the name, stripped

    def split(self, parts: int) -> list[str]:
        """The arguments split on whitespace into at most ``parts`` pieces."""
        return self.args.split(None, parts - 1) if self.args else []


def parse_command(text: str) -> Command | None:
    match = _COMMAND.match(text)
    if match is None:
        return None
    return Command(match.group(1).lower(), (match.group(2) or "").strip())
