"""Joining by invitation, choosing a language, and help."""

import logging

from helpdesk.domain.invites import hash_code
from helpdesk.domain.languages import SUPPORTED_LANGUAGES, normalize_language_code
from helpdesk.domain.people import Role
from helpdesk.i18n import Button, LanguageName, Msg, Quote, Reply, Text, language_name
from helpdesk.services.turn import Turn

__all__ = ["ROLE_TEXT", "choose_language", "help_for", "register"]

log = logging.getLogger(__name__)

ROLE_TEXT = {
    Role.OFFICIAL: Msg.ROLE_OFFICIAL,
    Role.EXPERT: Msg.ROLE_EXPERT,
    Role.STAFF: Msg.ROLE_STAFF,
}
_HELP = {Role.OFFICIAL: Msg.HELP_OFFICIAL, Role.EXPERT: Msg.HELP_EXPERT, Role.STAFF: Msg.HELP_STAFF}


async def register(turn: Turn, code: str, display_name: str | None) -> None:
    """``/start CODE``: a valid, unused invitation makes the sender a person with its role."""
    if turn.person is not None:
        await turn.reply(Reply.say(Msg.START_ALREADY, name=turn.person.name))
        return
    if not code:
        await turn.reply(Reply.say(Msg.START_MISSING_CODE))
        return
    invite = await turn.uow.invites.by_code_hash(hash_code(code))
    if invite is None or not invite.is_valid(turn.now):
        log.info(
            "registration refused on %s: unknown, used or expired code", turn.identity.platform
        )
        await turn.reply(Reply.say(Msg.START_BAD_CODE))
        return
    person = invite.person(display_name or turn.identity.address, turn.now)
    person.identities.append(turn.identity)
    await turn.uow.people.add(person)
    assert person.id is not None
    await turn.uow.people.touch(turn.identity, turn.now)
    invite.redeem(person.id, turn.now)
    await turn.uow.invites.save(invite)
    turn.person = person
    log.info("person %s registered as %s on %s", person.id, person.role, turn.identity.platform)
    await turn.reply(Reply.say(Msg.WELCOME, name=person.name, role=Text(ROLE_TEXT[person.role])))


async def choose_language(turn: Turn, argument: str) -> None:
    codes = ", ".join(SUPPORTED_LANGUAGES)
    if not argument:
        # A button per language, each named in its own language.
        await turn.reply(
            Reply(
                (Text(Msg.LANGUAGE_USAGE, {"codes": codes}),),
                buttons=tuple(
                    Button(Quote(language_name(code)), f"/language {code}")
                    for code in SUPPORTED_LANGUAGES
                ),
            )
        )
        return
    wanted = normalize_language_code(argument.split()[0])
    by_lower = {code.lower(): code for code in SUPPORTED_LANGUAGES}
    code = by_lower.get(wanted.lower()) if wanted else None
    if code is None:
        await turn.reply(Reply.say(Msg.LANGUAGE_BAD, code=argument.split()[0][:20], codes=codes))
        return
    person = turn.sender
    person.ui_language = code
    await turn.uow.people.save(person)
    await turn.reply(Reply.say(Msg.LANGUAGE_SET, language=LanguageName(code)))


async def help_for(turn: Turn) -> None:
    await turn.reply(Reply.say(_HELP[turn.sender.role]))
