"""The conversation: every message from every platform comes in here and replies go out
through the outbox. Platform-independent; adapters only translate to and from their API."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.domain.actions import ChatAction, GiveFeedback, RateTicket
from helpdesk.domain.languages import normalize_language_code
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.questions import Feedback
from helpdesk.domain.schedule import Timings
from helpdesk.i18n import Msg, Reply
from helpdesk.matching import has_content
from helpdesk.matching.language import LanguageIdentifier
from helpdesk.services.chat import asking, connections, people, staff, tickets, web
from helpdesk.services.chat.resources import Resources
from helpdesk.services.choices import reshown
from helpdesk.services.commands import Command, parse_command, parse_number
from helpdesk.services.conflicts import again_on_conflict
from helpdesk.services.input import InputLimits, check_question, clean_text, too_long
from helpdesk.services.knowledge import KnowledgeIndex
from helpdesk.services.messenger import notify_staff
from helpdesk.services.pace import Pace
from helpdesk.services.ports import Clock, EntryWriter, UnitOfWork, UnitOfWorkFactory
from helpdesk.services.turn import Turn

__all__ = ["Helpdesk", "Inbound"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    """A message as an adapter received it."""

    platform: str
    address: str  # the sender on that platform
    text: str | None  # None for something that is not text (a sticker, a photo)
    message_id: str | None = None  # the platform's id: a redelivered message is handled once
    reply_to: str | None = None  # the platform id of the message this replies to
    display_name: str | None = None
    language_code: str | None = None  # what the chat app says the person uses
    reaction: str | None = None  # an emoji reaction to the message ``reply_to``
    undecryptable: bool = False  # an encrypted message the adapter could not decrypt


# Reactions that press a message's "Helpful" or "Not helpful" button.
_POSITIVE = frozenset({"👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "✅", "❤️", "+1"})
_NEGATIVE = frozenset({"👎", "👎🏻", "👎🏼", "👎🏽", "👎🏾", "👎🏿", "❌", "-1"})


_Handler = Callable[[Turn, Command, Resources], Awaitable[None]]
_STAFF = frozenset({Role.STAFF})
_TELL_STAFF_EVERY = timedelta(minutes=10)  # about messages that could not be handled


class Helpdesk:
    """Handles inbound messages: registration, questions, tickets, and the commands."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        knowledge: KnowledgeIndex,
        clock: Clock,
        limits: InputLimits | None = None,
        timings: Timings | None = None,
        write_entry: EntryWriter | None = None,
        pace: Pace | None = None,
        languages: LanguageIdentifier | None = None,
        on_queued: Callable[[Sequence[int]], None] | None = None,
        web_url: str | None = None,
    ) -> None:
        self.uow = uow
        # Told the outbox items each message queued, once they are committed: the relay
        # delivers them at once, without looking for them.
        self.on_queued = on_queued
        self.knowledge = knowledge
        self.clock = clock
        self.limits = limits or InputLimits()
        self.timings = timings or Timings()
        self.write_entry = write_entry  # published entries go back to knowledge/ too
        self.pace = pace or Pace()
        self.languages = languages or LanguageIdentifier()
        self.web_url = web_url  # where /web links point
        self._staff_told: datetime | None = None
        self._in_hand: set[asyncio.Task[bool]] = set()
        self._commands: dict[str, tuple[frozenset[Role] | None, _Handler]] = {
            "help": (None, people.on_help),
            "ask": (None, asking.on_ask),
            "tickets": (None, tickets.on_tickets),
            "language": (None, people.on_language),
            "cancel": (None, tickets.on_cancel),
            "answer": (frozenset({Role.EXPERT, Role.STAFF}), tickets.on_answer),
            "decline": (frozenset({Role.EXPERT}), tickets.on_decline),
            # Actions behind buttons; typed by hand they work the same.
            "pick": (None, asking.on_pick),
            "feedback": (None, asking.on_feedback),
            "escalate": (None, asking.on_escalate),
            "rate": (None, tickets.on_rate),
            "followup": (None, tickets.on_follow_up),
            "away": (frozenset({Role.EXPERT, Role.STAFF}), people.on_away),
            "back": (frozenset({Role.EXPERT, Role.STAFF}), people.on_back),
            # Staff: curation and statistics
            "promote": (_STAFF, staff.on_promote),
            "publish": (_STAFF, staff.on_publish),
            "retire": (_STAFF, staff.on_retire),
            "phrase": (_STAFF, staff.on_phrase),
            "proposals": (_STAFF, staff.on_proposals),
            "accept": (_STAFF, staff.on_decide),
            "reject": (_STAFF, staff.on_decide),
            "stats": (_STAFF, staff.on_stats),
            "introduce": (_STAFF, staff.on_introduce),
            "connect": (frozenset({Role.OFFICIAL, Role.EXPERT}), connections.on_connect),
            "forget": (None, people.on_forget),
            "web": (frozenset({Role.EXPERT, Role.STAFF}), web.on_web),
        }

    @property
    def resources(self) -> Resources:
        """What the chat handlers use besides the turn."""
        return Resources(self.knowledge, self.limits, self.write_entry, self.web_url)

    async def handle(self, message: Inbound) -> bool:
        """Handle one message exactly once. False if it had been handled already.

        The handling runs to its end even when the caller is cancelled (an adapter
        stopped at shutdown): a transaction cut in the middle would roll back anyway, but
        it leaves the connection pool to clean up after a cancelled task. ``drain``
        waits for what is in hand."""
        task = asyncio.create_task(self._handle_or_apologise(message))
        self._in_hand.add(task)
        task.add_done_callback(self._in_hand.discard)
        return await asyncio.shield(task)

    async def drain(self, patience: float) -> None:
        """Wait (at most ``patience`` seconds) for the messages being handled."""
        if self._in_hand:
            await asyncio.wait(set(self._in_hand), timeout=patience)

    async def _handle_or_apologise(self, message: Inbound) -> bool:
        try:
            return await self._handle(message)
        except Exception:
            # Never the message text: it may be sensitive.
            log.exception("failed to handle message %s on %s", message.message_id, message.platform)
            await self._apologise(message)
            return True

    async def _handle(self, message: Inbound) -> bool:
        # Before the turn's transaction: rebuilding may write cached vectors, and on SQLite a
        # second writer inside an open write transaction would wait for itself.
        await self.knowledge.refresh()
        paced: dict[str, str] = {}  # a message handled again after a conflict counts once
        async for attempt in again_on_conflict():
            with attempt:
                return await self._handle_once(message, paced)
        raise AssertionError("unreachable: again_on_conflict reraises")

    async def _handle_once(self, message: Inbound, paced: dict[str, str]) -> bool:
        identity = ChatIdentity(message.platform, message.address)
        now = self.clock()
        async with self.uow() as uow:
            person = await uow.people.by_identity(identity)
            if person is not None:
                await self._prepare(message)
            if message.message_id and not await uow.inbound.claim(
                message.platform, message.message_id, person.id if person else None, now
            ):
                return False
            app_language = (
                normalize_language_code(message.language_code) if message.language_code else None
            )
            written = self._written_in(message, person, app_language)
            if "pace" not in paced:
                paced["pace"] = self.pace.check(f"{message.platform}:{message.address}", now)
            pace = paced["pace"]
            if pace != "ok":
                if pace == "warn":
                    await Turn(uow, now, identity, person, written=written).reply(
                        Reply.say(Msg.RATE_LIMITED)
                    )
                await self._commit(uow)
                return True
            if person is not None:
                await uow.people.touch(identity, now)
                if written is not None and written != person.last_language:
                    # Replies follow the language people write in, also later ones to a
                    # command or a number, which say nothing of it.
                    person.last_language = written
                    await uow.people.remember_language(identity, written)
            turn = Turn(uow, now, identity, person, app_language, self.timings, written=written)
            await self._dispatch(turn, message)
            await self._commit(uow)
        if person is not None and person.role is Role.STAFF:
            # Only staff change the knowledge base from the chat (publish, retire, accept
            # a phrasing): their next question, or anyone's, sees the change at once.
            self.knowledge.changed()
        return True

    async def _prepare(self, message: Inbound) -> None:
        """A message that asks a question (as text or with /ask) is matched before the
        turn writes anything: see ``KnowledgeIndex.prepare``. A guess from the text alone;
        a wrong one only costs the matching."""
        if message.reply_to or message.reaction is not None or not message.text:
            return
        text = clean_text(message.text)
        command = parse_command(text)
        if command is not None:
            text = command.args if command.name == "ask" else ""
        elif len(text) <= 3 and parse_number(text) is not None:
            text = ""
        if text and has_content(text) and check_question(message.text, text, self.limits) is None:
            await self.knowledge.prepare(text)

    async def _commit(self, uow: UnitOfWork) -> None:
        await uow.commit()
        if self.on_queued is not None and uow.outbox.added:
            self.on_queued(uow.outbox.added)

    def _written_in(
        self, message: Inbound, person: Person | None, app_language: str | None
    ) -> str | None:
        """The language of what the message says, when it says enough: a question, an
        answer, the text of /ask; not a command, a number or a button."""
        text = clean_text(message.text) if message.text else ""
        command = parse_command(text)
        if command is not None:
            text = command.args if command.name == "ask" else ""
        if not text:
            return None
        preferred = [*(person.languages if person else ()), app_language]
        if person is not None and person.last_language:
            preferred.insert(0, person.last_language)
        return self.languages.identify(
            text, [c for c in preferred if c], person.country if person else None
        )

    async def _apologise(self, message: Inbound) -> None:
        """The message could not be handled: say so, and remember it was received."""
        try:
            identity = ChatIdentity(message.platform, message.address)
            now = self.clock()
            async with self.uow() as uow:
                person = await uow.people.by_identity(identity)
                if message.message_id and not await uow.inbound.claim(
                    message.platform, message.message_id, person.id if person else None, now
                ):
                    return
                await Turn(uow, now, identity, person).reply(Reply.say(Msg.ERROR_INTERNAL))
                if self._staff_told is None or now - self._staff_told >= _TELL_STAFF_EVERY:
                    # The apology says the hub team has been told: they are, at most once
                    # every few minutes, with what the log needs and nothing of the message.
                    self._staff_told = now
                    told = Reply.say(
                        Msg.STAFF_INTERNAL_ERROR,
                        platform=message.platform,
                        at=f"{now:%Y-%m-%d %H:%M:%S} UTC",
                    )
                    await notify_staff(uow, told, now)
                await self._commit(uow)
        except Exception:
            log.exception(
                "could not even apologise for message %s on %s",
                message.message_id,
                message.platform,
            )

    async def _dispatch(self, turn: Turn, message: Inbound) -> None:
        if message.undecryptable:
            await turn.reply(Reply.say(Msg.INPUT_UNDECRYPTABLE))
            return
        if message.reaction is not None:
            await self._reaction(turn, message)
            return
        raw = message.text
        text = clean_text(raw) if raw is not None else ""
        command = parse_command(text)
        if turn.person is None:
            if command is not None and command.name == "start":
                await people.on_start(turn, command.args, message.display_name)
            else:
                await turn.reply(Reply.say(Msg.STRANGER))
            return

        if command is None and message.reply_to and raw is not None:
            replied = await turn.uow.outbox.sent_reply(message.platform, message.reply_to)
            ref = replied.ref if replied else None
            if ref and ref.startswith("ticket:") and turn.sender.role is not Role.OFFICIAL:
                problem = check_question(raw, text, self.limits)
                if problem is not None:
                    await turn.reply(problem)
                    return
                await tickets.send_answer(turn, int(ref.removeprefix("ticket:")), text)
                return

        number = parse_number(text) if command is None and len(text) <= 3 else None
        if number is not None:
            # A bare number is a choice among the last message's buttons; if that message
            # had none, the choices still open are shown again rather than guessed at.
            menus = await turn.uow.menus.get(turn.sender_id)
            action = menus.choice(number)
            if action is None:
                waiting = menus.waiting
                await turn.reply(reshown(waiting) if waiting else Reply.say(Msg.CHOICE_EXPIRED))
                return
            command = parse_command(action)

        if command is not None:
            await self._command(turn, command, message)
            return
        problem = check_question(raw, text, self.limits)
        if problem is not None:
            await turn.reply(problem)
            return
        await asking.on_question(turn, self.resources, text)

    async def _reaction(self, turn: Turn, message: Inbound) -> None:
        """👍 or 👎 on one of the bot's messages presses its Helpful or Not helpful button.
        Other reactions are just reactions: no reply, so the chat does not fill up."""
        if turn.person is None or message.reply_to is None:
            return
        key = (message.reaction or "").strip()
        wanted = (
            Feedback.HELPFUL
            if key in _POSITIVE
            else Feedback.NOT_HELPFUL
            if key in _NEGATIVE
            else None
        )
        replied = await turn.uow.outbox.sent_reply(message.platform, message.reply_to)
        if wanted is None or replied is None:
            return
        pressed = next(
            (
                b
                for b in replied.buttons
                if isinstance(b.action, GiveFeedback | RateTicket)
                and wanted
                in (getattr(b.action, "feedback", None), getattr(b.action, "rating", None))
            ),
            None,
        )
        command = parse_command(pressed.line) if pressed else None
        if command is not None:
            await self._command(turn, command, message)

    async def _command(self, turn: Turn, command: Command, message: Inbound) -> None:
        if command.name == "start":
            await people.on_start(turn, command.args, message.display_name)
            return
        known = self._commands.get(command.name)
        if known is None:
            await turn.reply(Reply.say(Msg.COMMAND_UNKNOWN, command=command.name[:32]))
            return
        roles, handler = known
        if roles is not None and turn.sender.role not in roles:
            await turn.reply(Reply.say(Msg.COMMAND_NOT_ALLOWED, command=command.name))
            return
        if len(command.args) > self.limits.max_length:
            await turn.reply(too_long(command.args, self.limits.max_length))
            return
        await handler(turn, command, self.resources)
        await turn.chosen(command.line)


def _says(action: ChatAction, feedback: Feedback) -> bool:
    """Whether a button gives this feedback (on an answer from the base or an expert)."""
    return (isinstance(action, GiveFeedback) and action.feedback is feedback) or (
        isinstance(action, RateTicket) and action.rating is feedback
    )
