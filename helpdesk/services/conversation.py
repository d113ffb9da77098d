"""The conversation: every message from every platform comes in here and replies go out
through the outbox. Platform-independent; adapters only translate to and from their API."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.domain.languages import normalize_language_code
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.questions import Feedback
from helpdesk.domain.schedule import Timings
from helpdesk.domain.tickets import FollowUp
from helpdesk.i18n import Msg, Reply
from helpdesk.matching.language import LanguageIdentifier
from helpdesk.services import staff
from helpdesk.services.asking import (
    ask_expert,
    ask_question,
    escalate_question,
    give_feedback,
    pick_suggestion,
)
from helpdesk.services.choices import reshown
from helpdesk.services.commands import Command, parse_command, parse_number
from helpdesk.services.connections import introduce, request_connection
from helpdesk.services.input import InputLimits, check_question, clean_text, too_long
from helpdesk.services.knowledge import KnowledgeIndex
from helpdesk.services.pace import Pace
from helpdesk.services.ports import Clock, EntryWriter, UnitOfWorkFactory
from helpdesk.services.privacy import forget
from helpdesk.services.registration import choose_language, help_for, register
from helpdesk.services.tickets import (
    answer_ticket,
    cancel_ticket,
    come_back,
    decline_ticket,
    follow_up_ticket,
    list_tickets,
    rate_ticket,
    score_ticket,
    set_away,
)
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


_Handler = Callable[[Turn, Command, Inbound], Awaitable[None]]
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
    ) -> None:
        self.uow = uow
        self.knowledge = knowledge
        self.clock = clock
        self.limits = limits or InputLimits()
        self.timings = timings or Timings()
        self.write_entry = write_entry  # published entries go back to knowledge/ too
        self.pace = pace or Pace()
        self.languages = languages or LanguageIdentifier()
        self._staff_told: datetime | None = None
        self._in_hand: set[asyncio.Task[bool]] = set()
        self._commands: dict[str, tuple[frozenset[Role] | None, _Handler]] = {
            "help": (None, self._help),
            "ask": (None, self._ask),
            "tickets": (None, self._tickets),
            "language": (None, self._language),
            "cancel": (None, self._cancel),
            "answer": (frozenset({Role.EXPERT, Role.STAFF}), self._answer),
            "decline": (frozenset({Role.EXPERT}), self._decline),
            # Actions behind buttons; typed by hand they work the same.
            "pick": (None, self._pick),
            "feedback": (None, self._feedback),
            "escalate": (None, self._escalate),
            "rate": (None, self._rate),
            "followup": (None, self._follow_up),
            "away": (frozenset({Role.EXPERT, Role.STAFF}), self._away),
            "back": (frozenset({Role.EXPERT, Role.STAFF}), self._back),
            # Staff: curation and statistics
            "promote": (_STAFF, self._promote),
            "publish": (_STAFF, self._publish),
            "retire": (_STAFF, self._retire),
            "phrase": (_STAFF, self._phrase),
            "proposals": (_STAFF, self._proposals),
            "accept": (_STAFF, self._accept),
            "reject": (_STAFF, self._reject),
            "stats": (_STAFF, self._stats),
            "introduce": (_STAFF, self._introduce),
            "connect": (frozenset({Role.OFFICIAL, Role.EXPERT}), self._connect),
            "forget": (None, self._forget),
        }

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
        identity = ChatIdentity(message.platform, message.address)
        # Before the turn's transaction: rebuilding may write cached vectors, and on SQLite a
        # second writer inside an open write transaction would wait for itself.
        await self.knowledge.refresh()
        now = self.clock()
        async with self.uow() as uow:
            person = await uow.people.by_identity(identity)
            if message.message_id and not await uow.inbound.claim(
                message.platform, message.message_id, person.id if person else None, now
            ):
                return False
            app_language = (
                normalize_language_code(message.language_code) if message.language_code else None
            )
            written = self._written_in(message, person, app_language)
            pace = self.pace.check(f"{message.platform}:{message.address}", now)
            if pace != "ok":
                if pace == "warn":
                    await Turn(uow, now, identity, person, written=written).reply(
                        Reply.say(Msg.RATE_LIMITED)
                    )
                await uow.commit()
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
            await uow.commit()
        return True

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
                turn = Turn(uow, now, identity, person)
                await turn.reply(Reply.say(Msg.ERROR_INTERNAL))
                if self._staff_told is None or now - self._staff_told >= _TELL_STAFF_EVERY:
                    # The apology says the hub team has been told: they are, at most once
                    # every few minutes, with what the log needs and nothing of the message.
                    self._staff_told = now
                    await turn.notify_staff(
                        Reply.say(
                            Msg.STAFF_INTERNAL_ERROR,
                            platform=message.platform,
                            at=f"{now:%Y-%m-%d %H:%M:%S} UTC",
                        )
                    )
                await uow.commit()
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
                await register(turn, command.args, message.display_name)
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
                await answer_ticket(turn, int(ref.removeprefix("ticket:")), text)
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
        await ask_question(turn, self.knowledge, text)

    async def _reaction(self, turn: Turn, message: Inbound) -> None:
        """👍 or 👎 on one of the bot's messages presses its Helpful or Not helpful button.
        Other reactions are just reactions: no reply, so the chat does not fill up."""
        if turn.person is None or message.reply_to is None:
            return
        key = (message.reaction or "").strip()
        wanted = " helpful" if key in _POSITIVE else " not_helpful" if key in _NEGATIVE else None
        replied = await turn.uow.outbox.sent_reply(message.platform, message.reply_to)
        if wanted is None or replied is None:
            return
        action = next((b.action for b in replied.buttons if b.action.endswith(wanted)), None)
        command = parse_command(action) if action else None
        if command is not None:
            await self._command(turn, command, message)

    async def _command(self, turn: Turn, command: Command, message: Inbound) -> None:
        if command.name == "start":
            await register(turn, command.args, message.display_name)
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
        await handler(turn, command, message)
        await turn.chosen(command.line)

    # -- commands ----------------------------------------------------------------------

    async def _help(self, turn: Turn, command: Command, message: Inbound) -> None:
        await help_for(turn)

    async def _ask(self, turn: Turn, command: Command, message: Inbound) -> None:
        if not command.args:
            await turn.reply(Reply.say(Msg.ASK_USAGE))
            return
        problem = check_question(command.args, command.args, self.limits)
        if problem is not None:
            await turn.reply(problem)
            return
        await ask_expert(turn, self.knowledge, command.args)

    async def _tickets(self, turn: Turn, command: Command, message: Inbound) -> None:
        await list_tickets(turn)

    async def _language(self, turn: Turn, command: Command, message: Inbound) -> None:
        await choose_language(turn, command.args)

    async def _answer(self, turn: Turn, command: Command, message: Inbound) -> None:
        parts = command.split(2)
        number = parse_number(parts[0]) if parts else None
        if number is None or len(parts) < 2:
            await turn.reply(Reply.say(Msg.ANSWER_USAGE))
            return
        problem = check_question(parts[1], parts[1], self.limits)
        if problem is not None:
            await turn.reply(problem)
            return
        await answer_ticket(turn, number, parts[1])

    async def _decline(self, turn: Turn, command: Command, message: Inbound) -> None:
        await _on_ticket(turn, command, decline_ticket, Msg.DECLINE_USAGE)

    async def _cancel(self, turn: Turn, command: Command, message: Inbound) -> None:
        await _on_ticket(turn, command, cancel_ticket, Msg.CANCEL_USAGE)

    async def _pick(self, turn: Turn, command: Command, message: Inbound) -> None:
        parts = command.split(2)
        numbers = [parse_number(p) for p in parts]
        if len(numbers) == 2 and numbers[0] is not None and numbers[1] is not None:
            await pick_suggestion(turn, self.knowledge, numbers[0], numbers[1])
        else:
            await turn.reply(Reply.say(Msg.CHOICE_EXPIRED))

    async def _feedback(self, turn: Turn, command: Command, message: Inbound) -> None:
        parts = command.split(2)
        feedback = _feedback_value(parts[1]) if len(parts) == 2 else None
        question = parse_number(parts[0]) if parts else None
        if feedback is None or question is None:
            await turn.reply(Reply.say(Msg.CHOICE_EXPIRED))
            return
        await give_feedback(turn, question, feedback)

    async def _escalate(self, turn: Turn, command: Command, message: Inbound) -> None:
        question = parse_number(command.args)
        if question is None:
            await turn.reply(Reply.say(Msg.CHOICE_EXPIRED))
            return
        await escalate_question(turn, self.knowledge, question)

    async def _rate(self, turn: Turn, command: Command, message: Inbound) -> None:
        """``/rate N helpful|not_helpful`` (the buttons under an answer) or
        ``/rate N 1-5 [comment]``."""
        parts = command.split(3)
        number = parse_number(parts[0]) if parts else None
        if number is not None and len(parts) >= 2 and parts[1] in ("1", "2", "3", "4", "5"):
            comment = parts[2] if len(parts) == 3 else None
            if comment is not None and len(comment) > self.limits.max_comment:
                await turn.reply(too_long(comment, self.limits.max_comment))
                return
            await score_ticket(turn, number, int(parts[1]), comment)
            return
        rating = _feedback_value(parts[1]) if len(parts) == 2 else None
        if number is None or rating is None:
            await turn.reply(Reply.say(Msg.RATE_USAGE))
            return
        await rate_ticket(turn, number, rating)

    async def _follow_up(self, turn: Turn, command: Command, message: Inbound) -> None:
        parts = command.split(2)
        number = parse_number(parts[0]) if parts else None
        try:
            outcome = FollowUp(parts[1].lower()) if len(parts) == 2 else None
        except ValueError:
            outcome = None
        if number is None or outcome is None:
            await turn.reply(Reply.say(Msg.FOLLOWUP_USAGE))
            return
        await follow_up_ticket(turn, number, outcome)

    async def _promote(self, turn: Turn, command: Command, message: Inbound) -> None:
        await staff.promote(turn, command.args)

    async def _publish(self, turn: Turn, command: Command, message: Inbound) -> None:
        await staff.publish(turn, command.args, self.write_entry)

    async def _retire(self, turn: Turn, command: Command, message: Inbound) -> None:
        await staff.retire(turn, command.args, self.write_entry)

    async def _phrase(self, turn: Turn, command: Command, message: Inbound) -> None:
        text = command.split(2)[1:] or [""]
        if len(text[0]) > self.limits.max_phrasing:
            await turn.reply(too_long(text[0], self.limits.max_phrasing))
            return
        await staff.phrase(turn, command.args, self.write_entry)

    async def _proposals(self, turn: Turn, command: Command, message: Inbound) -> None:
        await staff.list_proposals(turn)

    async def _accept(self, turn: Turn, command: Command, message: Inbound) -> None:
        await staff.decide(turn, command.args, True, self.write_entry)

    async def _reject(self, turn: Turn, command: Command, message: Inbound) -> None:
        await staff.decide(turn, command.args, False, self.write_entry)

    async def _connect(self, turn: Turn, command: Command, message: Inbound) -> None:
        await request_connection(turn, command.args)

    async def _forget(self, turn: Turn, command: Command, message: Inbound) -> None:
        await forget(turn, command.args, self.write_entry)

    async def _introduce(self, turn: Turn, command: Command, message: Inbound) -> None:
        contact = command.split(2)[1:] or [""]
        if len(contact[0]) > self.limits.max_contact:
            await turn.reply(too_long(contact[0], self.limits.max_contact))
            return
        await introduce(turn, command.args)

    async def _stats(self, turn: Turn, command: Command, message: Inbound) -> None:
        await staff.stats(turn)

    async def _away(self, turn: Turn, command: Command, message: Inbound) -> None:
        await set_away(turn, command.args)

    async def _back(self, turn: Turn, command: Command, message: Inbound) -> None:
        await come_back(turn)


async def _on_ticket(
    turn: Turn, command: Command, action: Callable[[Turn, int], Awaitable[None]], usage: Msg
) -> None:
    """A command whose only argument is a ticket number."""
    number = parse_number(command.args)
    if number is None:
        await turn.reply(Reply.say(usage))
        return
    await action(turn, number)


def _feedback_value(text: str) -> Feedback | None:
    try:
        return Feedback(text.strip().lower())
    except ValueError:
        return None
