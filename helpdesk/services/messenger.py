"""Writing to people: every message goes into the outbox, in the same transaction as
what caused it, to where the person was last seen, in their language.

A message with buttons becomes the person's numbered choices; one without makes their
older numbers stale (services/choices.py)."""

import logging
from datetime import datetime

from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.i18n import Reply
from helpdesk.services.choices import offered
from helpdesk.services.ports import UnitOfWork

__all__ = ["language_for", "notify", "notify_staff", "queue_reply"]

log = logging.getLogger(__name__)


def language_for(
    person: Person | None, app_language: str | None = None, written: str | None = None
) -> str | None:
    """The language to write to someone in: their /language choice; else the language
    of the message they just wrote (``written``, identified); else the one they last
    wrote in; else their chat app's; else their invitation's (None: English)."""
    if person is not None and person.ui_language:
        return person.ui_language
    if written:
        return written
    if person is not None and person.last_language:
        return person.last_language
    return app_language or (person.languages[0] if person and person.languages else None)


async def queue_reply(
    uow: UnitOfWork,
    identity: ChatIdentity,
    person: Person | None,
    reply: Reply,
    now: datetime,
    language: str | None,
) -> None:
    """Put a message for ``identity`` in the outbox."""
    await uow.outbox.add(identity, person.id if person else None, language, reply, now)
    if person is None or person.id is None:
        return
    if reply.buttons:
        menus = await uow.menus.get(person.id)
        await uow.menus.set(person.id, offered(menus, reply), now)
    else:
        await uow.menus.stale(person.id)


async def notify(uow: UnitOfWork, person: Person, reply: Reply, now: datetime) -> bool:
    """Write to someone where they were last seen, in their language; False if they can
    be reached nowhere (erased, or never wrote)."""
    assert person.id is not None
    identity = await uow.people.reachable_at(person.id)
    if identity is None:
        log.warning("person %s has no chat identity; message not queued", person.id)
        return False
    await queue_reply(uow, identity, person, reply, now, language_for(person))
    return True


async def notify_staff(uow: UnitOfWork, reply: Reply, now: datetime) -> None:
    """Write to every member of staff."""
    for staff in await uow.people.all(Role.STAFF):
        await notify(uow, staff, reply, now)
