"""The console chat: the helpdesk in a terminal, and the transport the tests drive.

Several local people share the terminal (an official, an expert, staff); ``/as ROLE``
switches between them, and a message for someone else waits until you switch to them,
as it would in their own chat app.

It implements ``helpdesk.adapters.contract`` like the other adapters, and is given what
it needs (the core's handler, a way to deliver the outbox to it, the translator, the
people): it knows nothing of how the bot is wired.
"""

import asyncio
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from typing import BinaryIO, TextIO

from helpdesk.adapters.contract import Handler, Inbound, Transport
from helpdesk.domain.people import Person
from helpdesk.i18n import Msg, Reply, Text, Translator
from helpdesk.services.chat.people import ROLE_TEXT

__all__ = ["PLATFORM", "ConsoleChat", "Deliver"]

PLATFORM = "console"

Deliver = Callable[[Transport], Awaitable[object]]
"""Sends what waits in the outbox for a transport, now: the console shows each reply
before it reads the next line."""


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


class ConsoleChat:
    """Reads lines as the current local person, prints their replies."""

    platform = PLATFORM
    ready = True

    def __init__(
        self,
        handle: Handler,
        deliver: Deliver,
        translator: Translator,
        people: Mapping[str, Person],
        *,
        stdin: TextIO | None = None,
        out: TextIO | None = None,
    ) -> None:
        """``people`` by the name ``/as`` switches to, which is also their address on
        platform ``console``; the first is who the console starts as."""
        self._handle = handle
        self._deliver = deliver
        self._translator = translator
        self.people = dict(people)
        self.current = next(iter(self.people))
        self._stdin = stdin or sys.stdin
        self._out = out or sys.stdout
        self._waiting: dict[str, list[str]] = defaultdict(list)
        self._sent = 0
        self._delivery: asyncio.Future[object] | None = None

    # -- the contract: started, served, closed -------------------------------------------

    async def start(self) -> None:
        """Say who you are, and show what was left from before."""
        self._print(
            self._t(Msg.CONSOLE_INTRO, name=self._me.name, role=Text(ROLE_TEXT[self._me.role]))
        )
        await self._deliver(self)

    async def serve_once(self, stop: asyncio.Event) -> None:
        """Interactive with a terminal; with piped input, one message a line. The end of
        the input is the person leaving: it sets ``stop``."""
        interactive = self._stdin.isatty()
        loop = asyncio.get_running_loop()
        read_line = _line_reader(self._stdin)
        while not stop.is_set():
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
        stop.set()

    def retryable(self, error: Exception) -> bool:
        """Nothing in a terminal gets better by waiting."""
        return False

    async def close(self) -> None:
        """Nothing to disconnect; what still waits for someone else is shown now, for it was
        delivered here and is not kept anywhere after the console ends."""
        for role, waiting in self._waiting.items():
            person = self.people.get(role)
            name = person.name if person else role
            self._show(self._t(Msg.CONSOLE_WAITING_FOR, count=len(waiting), name=name), waiting)
        self._waiting.clear()

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
        self._delivery = asyncio.ensure_future(self._deliver(self))

    # -- the user side -------------------------------------------------------------------

    async def say(self, line: str) -> None:
        """One line typed by the current person."""
        if line.strip().split(" ", 1)[0].lower() in ("/as", "!as"):
            self._switch(line.strip()[3:].strip().lower())
            return
        await self._handle(Inbound(PLATFORM, self.current, line))
        await self._deliver(self)

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
            self._show(self._t(Msg.CONSOLE_WAITING, count=len(waiting)), waiting)

    def _show(self, heading: str, waiting: list[str]) -> None:
        """Messages that waited, under a line saying for whom."""
        self._print(heading)
        for text in waiting:
            self._print(text, gap=True)

    def _format(self, reply: Reply, language: str | None) -> str:
        rendered = self._translator.render(reply, language)
        lines = [rendered.text]
        if rendered.buttons:
            lines.append(self._t(Msg.CHOOSE_BY_NUMBER, language=language))
            lines.extend(f"  {i}) {label}" for i, (label, _) in enumerate(rendered.buttons, 1))
        return "\n".join(lines)

    def _t(self, key: Msg, language: str | None = None, **params: str | int | Text) -> str:
        return self._translator.translate(key, language or self._me.ui_language, params)

    def _print(self, text: str, *, gap: bool = False) -> None:
        self._out.write(text + ("\n\n" if gap else "\n"))
        self._out.flush()
