"""Test helpers shared by unit and integration tests."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from helpdesk.domain.invites import Invite, hash_code
from helpdesk.domain.knowledge import Entry
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.i18n import Reply, Translator
from helpdesk.matching.fuzzy import FuzzyMatcher
from helpdesk.services.conversation import Helpdesk, Inbound
from helpdesk.services.delivery import deliver_pending
from helpdesk.services.due import run_due
from helpdesk.services.knowledge import KnowledgeIndex, import_entries
from helpdesk.services.ports import Clock, UnitOfWorkFactory

ENTRIES = (
    Entry(
        id="lsc-setup",
        title="Setting up a Local Safety Council",
        questions=(
            "How do we set up a local safety council?",
            "Kako osnovati lokalni savjet za bezbjednost?",
            "Како да основаме локален совет за безбедност?",
            "Si të krijojmë një Këshill Vendor të Sigurisë?",
        ),
        body="Map threats and stakeholders, then agree the council's terms of reference.",
        topics=("multi-agency-coordination",),
        city="Danilovgrad",
        country="Montenegro",
        source="Danilovgrad workshop report, July 2023",
    ),
    Entry(
        id="youth-engagement",
        title="Engaging young people and youth-led groups",
        questions=(
            "How can we involve young people who distrust institutions?",
            "Kako uključiti mlade u prevenciju ekstremizma?",
            "Како да ги вклучиме младите во превенцијата?",
        ),
        body="Work through youth-led groups and give them a real say.",
        topics=("youth", "trust"),
    ),
    Entry(
        id="returnee-reintegration",
        title="Preparing communities for returnees",
        questions=(
            "How do we prepare the community for the return of foreign fighters' families?",
            "Kako pripremiti zajednicu za povratak porodica stranih boraca?",
        ),
        body="Agree with police and social services who informs the municipality, and when.",
        topics=("returnees", "information-sharing"),
    ),
)


@dataclass
class Delivered:
    address: str
    text: str  # in English, whatever the language: tests read one language
    buttons: tuple[tuple[str, str], ...]
    ref: str | None
    language: str | None = None  # the language it was sent in


@dataclass
class RecordingTransport:
    """A transport that keeps what it was asked to send, rendered in English."""

    platform: str
    translator: Translator = field(default_factory=Translator)
    sent: list[Delivered] = field(default_factory=list)
    ready: bool = True

    async def send(self, address: str, reply: Reply, language: str | None, key: str = "") -> str:
        rendered = self.translator.render(reply, "en")
        self.sent.append(Delivered(address, rendered.text, rendered.buttons, reply.ref, language))
        return f"{self.platform}-{len(self.sent)}"

    def for_address(self, address: str) -> list[Delivered]:
        return [d for d in self.sent if d.address == address]


class Chat:
    """Drives a Helpdesk the way adapters do: a message in, the outbox delivered."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, entries: Sequence[Entry] = ENTRIES
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.entries = entries
        self.knowledge = KnowledgeIndex(uow, lambda entries, vectors: FuzzyMatcher(entries))
        self.helpdesk = Helpdesk(uow, self.knowledge, clock)
        self.transport = RecordingTransport("test")
        self._message_ids = 0

    async def setup(self) -> None:
        await import_entries(self.uow, self.entries, self.clock)

    async def add_person(self, address: str, role: Role, **fields: object) -> Person:
        person = Person(
            name=address.title(),
            role=role,
            identities=[ChatIdentity("test", address)],
            created_at=self.clock(),
            **fields,
        )
        async with self.uow() as uow:
            await uow.people.add(person)
            await uow.commit()
        return person

    async def invite(self, role: Role, code: str, **fields: object) -> None:
        now = self.clock()
        async with self.uow() as uow:
            await uow.invites.add(
                Invite(
                    code_hash=hash_code(code),
                    role=role,
                    created_at=now,
                    expires_at=now + timedelta(days=30),
                    **fields,
                )
            )
            await uow.commit()

    async def say(
        self,
        address: str,
        text: str | None,
        *,
        message_id: str | None = None,
        reply_to: str | None = None,
        reaction: str | None = None,
        undecryptable: bool = False,
    ) -> list[Delivered]:
        """Send as ``address``; returns everything delivered to anyone because of it."""
        before = len(self.transport.sent)
        await self.helpdesk.handle(
            Inbound(
                "test",
                address,
                text,
                message_id=message_id,
                reply_to=reply_to,
                reaction=reaction,
                undecryptable=undecryptable,
            )
        )
        await deliver_pending(self.uow, {"test": self.transport}, self.clock)
        return self.transport.sent[before:]

    async def tick(self) -> list[Delivered]:
        """One round of the scheduler at the clock's time; what it delivered to anyone."""
        before = len(self.transport.sent)
        await run_due(self.uow, self.clock, self.helpdesk.timings)
        await deliver_pending(self.uow, {"test": self.transport}, self.clock)
        return self.transport.sent[before:]

    async def said_to(self, address: str, text: str | None, **kwargs: object) -> Delivered:
        """Send, and return the one reply to the sender."""
        delivered = [
            d
            for d in await self.say(address, text, **kwargs)  # type: ignore[arg-type]
            if d.address == address
        ]
        assert len(delivered) == 1, delivered
        return delivered[0]
