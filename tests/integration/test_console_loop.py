"""The whole loop through the console adapter, on a real SQLite database."""

import asyncio
import io
import re

import pytest

from helpdesk.adapters.console import ConsoleChat
from helpdesk.adapters.contract import keep_serving
from helpdesk.bootstrap import App
from helpdesk.domain.tickets import TicketStatus
from helpdesk.runner import open_console
from helpdesk.services.knowledge import import_entries
from tests.fakes import FakeClock
from tests.support import ENTRIES

UNMATCHED = "Who decides the budget line for street lighting in rural villages?"


class Console:
    """The console as a test transport: type a line, read what was printed."""

    def __init__(self, chat: ConsoleChat, out: io.StringIO) -> None:
        self.chat = chat
        self.out = out

    async def type(self, line: str) -> str:
        start = self.out.tell()
        await self.chat.say(line)
        self.out.seek(start)
        return self.out.read()


@pytest.fixture
async def console(app: App, clock: FakeClock) -> Console:
    await import_entries(app.uow, ENTRIES, clock)
    out = io.StringIO()
    return Console(await open_console(app, out=out), out)


async def test_question_ticket_expert_answer_rating(console: Console, app: App) -> None:
    # The official asks something the knowledge base does not cover.
    printed = await console.type(UNMATCHED)
    assert "passed your question to an expert (ticket #1)" in printed
    assert "(a message for Local expert is waiting; /as expert to read it)" in printed
    assert UNMATCHED not in printed  # the official does not see the expert's notification

    # The expert sees it on switching, and answers.
    printed = await console.type("/as expert")
    assert "You are now Local expert (an expert)." in printed
    assert "1 message was waiting for you:" in printed
    assert "New question for you: ticket #1" in printed and UNMATCHED in printed
    printed = await console.type("/tickets")
    assert "#1 (with an expert)" in printed
    printed = await console.type("/answer 1 The municipal council adopts it; ask the mayor.")
    assert "Your answer to ticket #1 was sent to the official." in printed

    # The official reads the answer and rates it with a number.
    printed = await console.type("/as official")
    assert "An expert answered your question (ticket #1):" in printed
    assert "The municipal council adopts it; ask the mayor." in printed
    assert re.search(r"1\) Helpful\n\s+2\) Not helpful", printed)
    printed = await console.type("1")
    assert "Ticket #1 is now closed." in printed

    async with app.uow() as uow:
        ticket = await uow.tickets.get(1)
    assert ticket is not None and ticket.status is TicketStatus.CLOSED
    assert [e.kind.value for e in ticket.events] == [
        "created",
        "assigned",
        "answered",
        "rated",
        "closed",
    ]


async def test_a_known_question_is_answered_from_the_knowledge_base(console: Console) -> None:
    printed = await console.type("how do we set up a local safety council")
    assert "Setting up a Local Safety Council" in printed
    assert "Good practice from Danilovgrad, Montenegro." in printed
    assert "1) Helpful" in printed and "3) Ask an expert" in printed
    assert "glad it helped" in await console.type("1")


async def test_switching_to_an_unknown_role(console: Console) -> None:
    assert "Use /as official, /as expert or /as staff." in await console.type("/as mayor")


async def test_staff_see_every_open_ticket(console: Console) -> None:
    await console.type(UNMATCHED)
    await console.type("/as staff")
    assert "#1 (with an expert)" in await console.type("/tickets")


async def test_piped_input_runs_to_the_end(app: App, clock: FakeClock) -> None:
    await import_entries(app.uow, ENTRIES, clock)
    out = io.StringIO()
    stdin = io.StringIO(f"{UNMATCHED}\n/as expert\n/answer 1 Ask the mayor.\n/as official\n2\n")
    chat = await open_console(app, stdin=stdin, out=out)
    await keep_serving(chat, asyncio.Event())
    text = out.getvalue()
    assert text.startswith("Helpdesk console. You are Local official (an official).")
    assert "official> " + UNMATCHED in text
    assert "Ask the mayor." in text
    assert "Ticket #1 is closed; if you need more help" in text


async def test_input_that_is_not_utf8_is_answered_and_reading_goes_on(
    app: App, clock: FakeClock
) -> None:
    await import_entries(app.uow, ENTRIES, clock)
    out = io.StringIO()
    # What a terminal or a pipe hands the console: bytes, decoded strictly by default.
    stdin = io.TextIOWrapper(
        io.BytesIO(
            b"How do we set up a local safety council?\n"
            b"\xff\xfe\xfd\xfc\n"
            b"Who pays for street lights in the villages?\xc3\n"
            b"/tickets\n"
        ),
        encoding="utf-8",
        errors="strict",
    )
    await keep_serving(await open_console(app, stdin=stdin, out=out), asyncio.Event())
    text = out.getvalue()
    assert "Setting up a Local Safety Council" in text  # the good line before the bad one
    assert "official> \ufffd\ufffd\ufffd\ufffd\nI can only read text messages." in text
    # A stray byte in a real question is a replacement character, and the question goes on.
    assert "official> Who pays for street lights in the villages?\ufffd\n" in text
    assert "(ticket #1)" in text and "#1 (with an expert)" in text


async def test_what_waits_for_someone_else_is_shown_when_the_console_ends(
    console: Console,
) -> None:
    # Delivered to the console and kept nowhere else: quitting must not drop it unseen.
    await console.type(UNMATCHED)
    start = console.out.tell()
    await console.chat.close()
    console.out.seek(start)
    printed = console.out.read()
    assert "1 message was waiting for Local expert:" in printed
    assert "New question for you: ticket #1" in printed and UNMATCHED in printed
    start = console.out.tell()
    await console.chat.close()  # shown once
    console.out.seek(start)
    assert console.out.read() == ""
