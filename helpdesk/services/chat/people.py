"""People in a chat: joining with /start, /language, /help, /away and /back, /forget."""

from helpdesk.domain.actions import ChooseLanguage, ConfirmForget, parse
from helpdesk.domain.languages import SUPPORTED_LANGUAGES
from helpdesk.domain.people import Role
from helpdesk.i18n import Button, LanguageName, Msg, Quote, Reply, Text, language_name
from helpdesk.services.audit import actor
from helpdesk.services.chat.resources import Resources
from helpdesk.services.commands import Command
from helpdesk.services.follow_through import local_time
from helpdesk.services.people import choose_language, come_back, set_away
from helpdesk.services.privacy import erase_person
from helpdesk.services.refusals import Refused
from helpdesk.services.registration import register
from helpdesk.services.turn import Turn

__all__ = [
    "ROLE_TEXT",
    "on_away",
    "on_back",
    "on_forget",
    "on_help",
    "on_language",
    "on_start",
]

ROLE_TEXT = {
    Role.OFFICIAL: Msg.ROLE_OFFICIAL,
    Role.EXPERT: Msg.ROLE_EXPERT,
    Role.STAFF: Msg.ROLE_STAFF,
}
_HELP = {Role.OFFICIAL: Msg.HELP_OFFICIAL, Role.EXPERT: Msg.HELP_EXPERT, Role.STAFF: Msg.HELP_STAFF}


async def on_start(turn: Turn, code: str, display_name: str | None) -> None:
    """``/start CODE``: a valid, unused invitation makes the sender a person."""
    if turn.person is not None:
        await turn.reply(Reply.say(Msg.START_ALREADY, name=turn.person.name))
        return
    try:
        person = await register(turn.context, turn.identity, code, display_name)
    except Refused as refused:
        await turn.refuse(refused)
        return
    turn.person = person
    await turn.reply(Reply.say(Msg.WELCOME, name=person.name, role=Text(ROLE_TEXT[person.role])))


async def on_language(turn: Turn, command: Command, resources: Resources) -> None:
    """``/language CODE``; without one, a button per language, named in its language."""
    if not command.args:
        codes = ", ".join(SUPPORTED_LANGUAGES)
        await turn.reply(
            Reply(
                (Text(Msg.LANGUAGE_USAGE, {"codes": codes}),),
                buttons=tuple(
                    Button(Quote(language_name(code)), ChooseLanguage(code))
                    for code in SUPPORTED_LANGUAGES
                ),
            )
        )
        return
    try:
        code = await choose_language(turn.context, turn.sender, command.args.split()[0])
    except Refused as refused:
        await turn.refuse(refused)
        return
    await turn.reply(Reply.say(Msg.LANGUAGE_SET, language=LanguageName(code)))


async def on_help(turn: Turn, command: Command, resources: Resources) -> None:
    await turn.reply(Reply.say(_HELP[turn.sender.role]))


async def on_away(turn: Turn, command: Command, resources: Resources) -> None:
    """``/away 2026-12-01`` (back that morning, their time) or ``/away 10d``."""
    try:
        back = await set_away(turn.context, turn.sender, command.args)
    except Refused as refused:
        await turn.refuse(refused)
        return
    await turn.reply(Reply.say(Msg.AWAY_SET, until=local_time(back, turn.sender)))


async def on_back(turn: Turn, command: Command, resources: Resources) -> None:
    await come_back(turn.context, turn.sender)
    await turn.reply(Reply.say(Msg.BACK_DONE))


async def on_forget(turn: Turn, command: Command, resources: Resources) -> None:
    """/forget asks first (it cannot be undone); /forget yes erases."""
    if not isinstance(parse(command.line), ConfirmForget):
        await turn.reply(
            Reply(
                (Text(Msg.FORGET_CONFIRM),),
                buttons=(Button(Text(Msg.BUTTON_FORGET), ConfirmForget()),),
                confirms=True,
            )
        )
        return
    await erase_person(
        turn.uow, turn.sender_id, actor(turn.sender), turn.now, resources.write_entry
    )
    # Queued after the erasure, which drops every message to the person: the goodbye
    # goes to the address they wrote from, says nothing about them, and is deleted once
    # delivered, address and all.
    await turn.reply(Reply((Text(Msg.FORGET_DONE),), ephemeral=True))
