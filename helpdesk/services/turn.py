"""One inbound message being handled: who sent it, and the replies it causes.

Replies are written to the outbox in the same transaction as everything else the
message changed, so they are delivered even if the process dies right after.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.schedule import Timings
from helpdesk.i18n import Reply
from helpdesk.services.choices import offered, reshown, resolved, still_open
from helpdesk.services.ports import UnitOfWork

__all__ = ["Turn", "language_for", "notify", "notify_staff", "queue_reply"]

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
    """Put a reply in the outbox; its buttons become the person's numbered choices, and a
    reply without any makes their older numbers stale (services/choices.py)."""
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


@dataclass
class Turn:
    uow: UnitOfWork
    now: datetime
    identity: ChatIdentity
    person: Person | None
    app_language: str | None = None
    timings: Timings = field(default_factory=Timings)  # what ticket changes schedule
    written: str | None = None  # the language the message was written in, when it tells
    # Whether this turn answered the sender, and whether with numbered choices.
    replied: bool = False
    offered_choices: bool = False

    @property
    def language(self) -> str | None:
        """The language replies to the sender are written in."""
        return language_for(self.person, self.app_language, self.written)

    @property
    def sender(self) -> Person:
        """The registered sender (handlers for strangers never ask for it)."""
        assert self.person is not None and self.person.id is not None
        return self.person

    @property
    def sender_id(self) -> int:
        assert self.sender.id is not None
        return self.sender.id

    async def reply(self, reply: Reply) -> None:
        """Answer the sender where they wrote from."""
        language = self.language
        await queue_reply(self.uow, self.identity, self.person, reply, self.now, language)
        self.replied = True
        self.offered_choices = self.offered_choices or bool(reply.buttons)

    async def chosen(self, action: str) -> None:
        """``action`` was chosen (a button, a number, or typed): the message it came from
        is closed. If this turn offered nothing new to choose from, an older message still
        waiting for a choice about a ticket is shown again, so that it stays reachable."""
        person_id = self.person.id if self.person else None
        if person_id is None:
            return
        menus = await self.uow.menus.get(person_id)
        left = resolved(menus, action)
        if left == menus:
            return
        await self.uow.menus.set(person_id, left, self.now)
        waiting = still_open(left)
        if waiting is not None and not self.offered_choices:
            await self.reply(reshown(waiting))

    async def notify(self, person: Person, reply: Reply) -> None:
        """Write to someone else, where they were last seen."""
        assert person.id is not None
        if person.id == (self.person.id if self.person else None):
            await self.reply(reply)
            return
        await notify(self.uow, person, reply, self.now)

    async def notify_staff(self, reply: Reply) -> None:
        for staff in await self.uow.people.all(Role.STAFF):
            await self.notify(staff, reply)
