"""Forget means forgotten: a person takes part in everything the helpdesk does, is
erased, and then every text and JSON column of every table is searched for them.

Seeds every kind of row a person leaves (questions, tickets on both sides, ratings and
comments, proposals, a connection request and its introduction, an invitation and its
audit record, messages to and about them, a failed delivery, inbound message ids, a
digest, an entry promoted from their ticket), then erases the official through /forget
and the expert through `person erase`, on SQLite and on PostgreSQL."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import LargeBinary, select

from helpdesk.bootstrap import App, entry_writer
from helpdesk.domain.audit import AuditAction
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.i18n import Reply
from helpdesk.services.audit import record
from helpdesk.services.curation import propose_phrasing
from helpdesk.services.delivery import Undeliverable, deliver_pending
from helpdesk.services.privacy import AlreadyErased, erase_person, export_person
from helpdesk.storage.tables import Base
from tests.fakes import FakeClock
from tests.support import Chat, Delivered, RecordingTransport

OFFICIAL = "700100200"  # a Telegram user id: the official's chat address
EXPERT = "700300400"
STAFF = "700500600"
ASKED = "Ko odlučuje o budžetu za ulično osvjetljenje u selima oko Tuzle? Pita Amra Hadžić."
ANSWERED = "Kako uključiti mlade u prevenciju ekstremizma?"
COUNCIL = "Kako osnovati lokalni savjet za bezbjednost?"
COMMENT = "Hvala, Amra je zadovoljna odgovorom."


class Refusing(RecordingTransport):
    async def send(self, address: str, reply: Reply, language: str | None, key: str = "") -> str:
        if address == OFFICIAL:
            raise Undeliverable("Forbidden: bot was blocked by the user")
        return await super().send(address, reply, language, key)


async def _add(app: App, clock: FakeClock, **fields: Any) -> Person:
    address = fields.pop("address")
    async with app.uow() as uow:
        person = await uow.people.add(
            Person(identities=[ChatIdentity("test", address)], created_at=clock(), **fields)
        )
        await uow.commit()
    return person


def _action(delivered: list[Delivered], address: str, prefix: str) -> str:
    for message in reversed(delivered):
        if message.address == address:
            for _, action in message.buttons:
                if action.startswith(prefix):
                    return action
    raise AssertionError(f"no {prefix} button for {address}")


async def _traces(app: App, needles: list[str], skip: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Every table.column whose text or JSON holds one of ``needles``."""
    found = []
    async with app.database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            columns = [c for c in table.columns if not isinstance(c.type, LargeBinary)]
            for row in await connection.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    flat = (
                        json.dumps(value, ensure_ascii=False)
                        if isinstance(value, dict | list)
                        else str(value)
                    )
                    for needle in needles:
                        if needle.casefold() in flat.casefold():
                            found.append(
                                f"{table.name}.{column.name}: {needle!r} in {flat[:120]!r}"
                            )
    return found


@pytest.mark.usefixtures("engine")
async def test_forget_and_erase_leave_no_trace_in_any_table_or_file(
    app: App, clock: FakeClock, tmp_path: Path
) -> None:
    knowledge = tmp_path / "knowledge"
    chat = Chat(app.uow, clock)
    chat.helpdesk.write_entry = entry_writer(knowledge)
    await chat.setup()
    await chat.tick()  # plans the staff digest a week from now
    staff = await _add(app, clock, name="Sara Kovač", role=Role.STAFF, address=STAFF)
    expert = await _add(
        app,
        clock,
        name="Vesna Ekspertović",
        role=Role.EXPERT,
        address=EXPERT,
        city="Sarajevo",
        country="Bosnia and Herzegovina",
        languages=("bs", "en"),
    )
    await chat.tick()
    await chat.invite(
        Role.OFFICIAL, "AMRA-CODE", name="Amra Hadžić", city="Tuzla", languages=("bs",)
    )
    async with app.uow() as uow:  # as `helpdesk invite create` records it
        await record(
            uow, clock(), "sara (cli)", AuditAction.INVITE, "invite:1", "official Amra Hadžić"
        )
        await uow.commit()
    ids = iter(range(1, 1000))

    async def say(address: str, text: str) -> list[Delivered]:
        # Telegram-like message ids: they hold the sender's chat id.
        return await chat.say(address, text, message_id=f"{address}:{next(ids)}")

    await say(OFFICIAL, "/start AMRA-CODE")
    answered = await say(OFFICIAL, ANSWERED)
    await say(OFFICIAL, _action(answered, OFFICIAL, "/feedback").rsplit(" ", 1)[0] + " helpful")
    await say(OFFICIAL, ASKED)  # escalated: ticket #1, to the expert
    await say(STAFF, "/tickets")
    await say(
        EXPERT, "/answer 1 Poštovana Amra Hadžić, odlučuje općinsko vijeće. Vesna Ekspertović"
    )
    await say(OFFICIAL, "/rate 1 helpful")
    council = await say(OFFICIAL, COUNCIL)
    await say(OFFICIAL, _action(council, OFFICIAL, "/connect"))
    await say(STAFF, "/introduce 1 načelnik@danilovgrad.me")
    async with app.uow() as uow:  # as picking a suggestion proposes it
        question = (await uow.questions.since(clock().replace(year=2000)))[-1]
        entry = await uow.entries.get("lsc-setup")
        assert entry is not None and question.text == COUNCIL
        question.text = COUNCIL + " Amra Hadžić iz Tuzle"
        await propose_phrasing(uow, question, entry, clock())
        await uow.commit()
    await say(STAFF, "/proposals")
    clock.advance(days=7, minutes=1)
    digest = await chat.tick()  # the digest, and the follow-up of ticket #1
    assert any(d.address == STAFF and "digest" in d.text for d in digest), digest
    await say(OFFICIAL, "/followup 1 solved")
    await say(OFFICIAL, f"/rate 1 5 {COMMENT}")
    # A message to the official is refused for good: staff are told, naming them.
    await chat.helpdesk.handle(chat_inbound(f"{OFFICIAL}:{next(ids)}", "/tickets"))
    await deliver_pending(app.uow, {"test": Refusing("test")}, clock)
    await deliver_pending(app.uow, {"test": chat.transport}, clock)
    promoted = await say(STAFF, "/promote 1")
    entry_id = re.search(r"ticket-1-[\w-]+", promoted[0].text)[0]  # type: ignore[index]
    await say(STAFF, f"/publish {entry_id}")
    assert "Vesna Ekspertović" in (knowledge / f"{entry_id}.md").read_text()

    async with app.uow() as uow:
        official = await uow.people.by_identity(ChatIdentity("test", OFFICIAL))
        assert official is not None and official.id is not None
        exported = await export_person(uow, official.id, "sara (cli)", clock())
    assert exported is not None
    subjects = {row["subject"] for row in exported["audit"]}
    assert {"invite:1", "connection:1"} <= subjects  # their invitation, their request

    official_traces = ["Amra", "Hadžić", OFFICIAL, ASKED, ANSWERED, COUNCIL, COMMENT]
    assert await _traces(app, official_traces)  # there was something to erase
    await say(OFFICIAL, "/forget yes")
    # Their questions live on in the knowledge base only as curated, nameless phrasings.
    knowledge_tables = {"entries", "entry_questions", "entry_versions"}
    assert await _traces(app, official_traces, skip=knowledge_tables) == []
    assert await _traces(app, ["Amra", "Hadžić", OFFICIAL]) == []
    assert not any("Amra" in f.read_text() for f in knowledge.glob("*.md"))

    async with app.uow() as uow:
        await erase_person(uow, expert.id or 0, "sara (cli)", clock(), entry_writer(knowledge))
        await uow.commit()
    assert await _traces(app, ["Vesna", "Ekspertović", EXPERT]) == []
    text = (knowledge / f"{entry_id}.md").read_text()
    assert "Vesna" not in text and "Answered by an expert of the hub's pool." in text

    # Once is enough: a second erasure changes nothing and records nothing.
    async with app.uow() as uow:
        before = len(await uow.audit.find(limit=1000))
        with pytest.raises(AlreadyErased):
            await erase_person(uow, expert.id or 0, "sara (cli)", clock())
        assert len(await uow.audit.find(limit=1000)) == before
    assert staff.id is not None


def chat_inbound(message_id: str, text: str) -> Any:
    from helpdesk.services.conversation import Inbound

    return Inbound("test", OFFICIAL, text, message_id=message_id)
