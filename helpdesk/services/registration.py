"""Joining by invitation: a valid, unused code makes whoever sends it a person with the
invitation's role, languages and city."""

import logging

from helpdesk.domain.invites import hash_code
from helpdesk.domain.people import ChatIdentity, Person
from helpdesk.i18n import Msg
from helpdesk.services.context import Context
from helpdesk.services.refusals import Refused

__all__ = ["register"]

log = logging.getLogger(__name__)


async def register(
    ctx: Context, identity: ChatIdentity, code: str, display_name: str | None
) -> Person:
    """The person an invitation code makes, reachable at ``identity``."""
    if not code:
        raise Refused(Msg.START_MISSING_CODE)
    invite = await ctx.uow.invites.by_code_hash(hash_code(code))
    if invite is None or not invite.is_valid(ctx.now):
        log.info("registration refused on %s: unknown, used or expired code", identity.platform)
        raise Refused(Msg.START_BAD_CODE)
    person = invite.person(display_name or identity.address, ctx.now)
    person.identities.append(identity)
    await ctx.uow.people.add(person)
    assert person.id is not None
    await ctx.uow.people.touch(identity, ctx.now)
    invite.redeem(person.id, ctx.now)
    await ctx.uow.invites.save(invite)
    log.info("person %s registered as %s on %s", person.id, person.role, identity.platform)
    return person
