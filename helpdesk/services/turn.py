"""One inbound chat message being handled: who sent it, and the replies it causes.

Replies are written to the outbox in the same transaction as everything else the
message changed, so they are delivered even if the process dies right after. The use
cases it calls see only its ``context``: they are the same for the chat, the command line
and the web console.
"""

from dataclasses import dataclass, field
from datetime import datetime

from helpdesk.domain.people import ChatIdentity, Person
from helpdesk.domain.schedule import Timings
from helpdesk.i18n import Reply
from helpdesk.services.choices import reshown, resolved, still_open
from helpdesk.services.context import Context
from helpdesk.services.messenger import language_for, notify, queue_reply
from helpdesk.services.ports import UnitOfWork
from helpdesk.services.refusals import Refused

__all__ = ["Turn"]


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
    def context(self) -> Context:
        """What the use cases this message calls run in."""
        return Context(self.uow, self.now, self.timings)

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

    async def refuse(self, refused: Refused) -> None:
        """Tell the sender why what they asked for was not done."""
        await self.reply(Reply.say(refused.key, **refused.params))

    async def notify(self, person: Person, reply: Reply) -> None:
        """Write to someone else where they were last seen (to the sender: a reply)."""
        if person.id is not None and person.id == (self.person.id if self.person else None):
            await self.reply(reply)
            return
        await notify(self.uow, person, reply, self.now)

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
