"""The console chat: the helpdesk in a terminal, and the transport the tests drive.

Three local people share the terminal (an official, an expert, staff); ``/as ROLE``
switches between them, and a message for someone else waits until you switch to them,
as it would in their own chat app.
"""

import asyncio
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, TextIO

from helpdesk.bootstrap import App
from helpdesk.domain.languages import SUPPORTED_LANGUAGES
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.i18n import Msg, Reply, Text
from helpdesk.services.chat.people import ROLE_TEXT
from helpdesk.services.conversation import Inbound
from helpdesk.services.delivery import deliver_pending

__all__ = ["PLATFORM", "ConsoleChat", "ensure_local_people"]

PLATFORM = "console"


def _line_reader(stdin: TextIO) -> Callable[[], str | None]:
    """Reads one line (without its line break) at a time; None at the end of the input.

    Lines are read as bytes and decoded one at a time, bad bytes replaced: a text stream
    decodes ahead of the line asked for, so one invalid byte would end the console and
    lose the good lines read with it. What is left of a line that was not text is for
    the helpdesk to judge, as it judges a message that is not text on any platform."""
    binary: BinaryIO | None = getattr(stdin, "buffer", None)
    if binary is None:  # already text (tests hand in a StringIO)

        def read_text() -> str | None:
            line = stdin.readline()
            return line.rstrip("\r\n") if line else None

        return read_text
    encoding = stdin.encoding or "utf-8"

    def read_bytes() -> str | None:
        raw = binary.readline()
        return raw.decode(encoding, errors="replace").rstrip("\r\n") if raw else None

    return read_bytes


@dataclass(frozen=True)
class _Local:
    role: Role
    name: str
    languages: tuple[str, ...]
    capacity: int = 3


# The expert speaks every language so that a question in any of them reaches someone.
_LOCAL_PEOPLE = {
    "official": _Local(Role.OFFICIAL, "Local official", ("en",)),
    "expert": _Local(Role.EXPERT, "Local expert", SUPPORTED_LANGUAGES, capacity=50),
    "staff": _Local(Role.STAFF, "Local staff", ("en",)),
}


async def ensure_local_people(app: App) -> dict[str, Person]:
    """The console's three people, created on first use (by one process at a time: two
    consoles opened together on a new database would both create them)."""
    people: dict[str, Person] = {}
    async with app.database.exclusively("console-people"), app.uow() as uow:
        for address, local in _LOCAL_PEOPLE.items():
            identity = ChatIdentity(PLATFORM, address)
            person = await uow.people.by_identity(identity)
            if person is None:
                person = await uow.people.add(
                    Person(
                        name=local.name,
                        role=local.role,
                        languages=local.languages,
                        capacity=local.capacity,
                        identities=[identity],
                        created_at=app.clock(),
                    )
                )
            people[address] = person
        await uow.commit()
    return people


class ConsoleChat:
    """Reads lines as the current local person, prints their replies."""

    platform = PLATFORM
    ready = True

    def __init__(self, app: App, people: dict[str, Person], out: TextIO | None = None) -> None:
        self.app = app
        self.people = people
        self.current = "official"
        self._out = out or sys.stdout
        self._waiting: dict[str, list[str]] = defaultdict(list)
        self._sent = 0
        self._delivery: asyncio.Future[int] | None = None

    # -- the transport side: the outbox delivers here ------------------------------------

    async def send(self, address: str, reply: Reply, language: str | None, key: str = "") -> str:
        self._sent += 1
        text = self._format(reply, language)
        if address == self.current:
            self._print(text, gap=True)
        else:
            self._waiting[address].append(text)
            person = self.people.get(address)
            name = person.name if person else address
            self._print(self._t(Msg.CONSOLE_MESSAGE_FOR, name=name, role=address))
        return f"console-{self._sent}"

    def wake(self) -> None:
        """Something was queued outside a message (a reminder): show it now."""
        self._delivery = asyncio.ensure_future(
            deliver_pending(self.app.uow, {PLATFORM: self}, self.app.clock)
        )

    # -- the user side -------------------------------------------------------------------

    async def say(self, line: str) -> None:
        """One line typed by the current person."""
        if line.strip().split(" ", 1)[0].lower() in ("/as", "!as"):
            self._switch(line.strip()[3:].strip().lower())
            return
        await self.app.helpdesk.handle(Inbound(PLATFORM, self.current, line))
        await deliver_pending(self.app.uow, {PLATFORM: self}, self.app.clock)

    async def run(self, stdin: TextIO | None = None) -> None:
        """Interactive with a terminal; with piped input, one message a line until the end."""
        stdin = stdin or sys.stdin
        interactive = stdin.isatty()
        self._print(
            self._t(Msg.CONSOLE_INTRO, name=self._me.name, role=Text(ROLE_TEXT[self._me.role]))
        )
        await deliver_pending(self.app.uow, {PLATFORM: self}, self.app.clock)  # left from before
        loop = asyncio.get_running_loop()
        read_line = _line_reader(stdin)
        while True:
            if interactive:
                self._out.write(f"{self.current}> ")
                self._out.flush()
            line = await loop.run_in_executor(None, read_line)
            if line is None:
                break
            if not interactive:
                self._print(f"{self.current}> {line}")
            await self.say(line)
        if interactive:
            self._print("")

    # -- helpers -------------------------------------------------------------------------

    @property
    def _me(self) -> Person:
        return self.people[self.current]

    def _switch(self, role: str) -> None:
        if role not in self.people:
            self._print(self._t(Msg.CONSOLE_AS_USAGE))
            return
        self.current = role
        self._print(
            self._t(Msg.CONSOLE_SWITCHED, name=self._me.name, role=Text(ROLE_TEXT[self._me.role]))
        )
        waiting = self._waiting.pop(role, [])
        if waiting:
            self._print(self._t(Msg.CONSOLE_WAITING, count=len(waiting)))
            for text in waiting:
                self._print(text, gap=True)

    def _format(self, reply: Reply, language: str | None) -> str:
        rendered = self.app.translator.render(reply, language)
        lines = [rendered.text]
        if rendered.buttons:
            lines.append(self._t(Msg.CHOOSE_BY_NUMBER, language=language))
            lines.extend(f"  {i}) {label}" for i, (label, _) in enumerate(rendered.buttons, 1))
        return "\n".join(lines)

    def _t(self, key: Msg, language: str | None = None, **params: str | int | Text) -> str:
        return self.app.translator.translate(key, language or self._me.ui_language, params)

    def _print(self, text: str, *, gap: bool = False) -> None:
        self._out.write(text + ("\n\n" if gap else "\n"))
        self._out.flush()
