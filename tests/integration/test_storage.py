"""Repositories against a real SQLite database, through the real unit of work."""

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, inspect, select, update
from sqlalchemy import text as sql_text

from helpdesk.bootstrap import App
from helpdesk.domain.actions import DeclineTicket, EscalateQuestion
from helpdesk.domain.invites import Invite, hash_code
from helpdesk.domain.knowledge import EntryStatus
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.questions import Action, AskedQuestion, Candidate, Feedback
from helpdesk.domain.tickets import Ticket, TicketStatus
from helpdesk.i18n import Button, Msg, Quote, Reply, Text
from helpdesk.services.choices import Menus, offered
from helpdesk.services.knowledge import import_entries
from helpdesk.storage.database import Database, DatabaseError, async_url
from helpdesk.storage.tables import OutboxMentionRow, PersonRow
from tests.conftest import PG_TEMPLATE
from tests.fakes import FakeClock
from tests.servers.postgres import PostgresServer
from tests.support import ENTRIES


async def test_migrations_create_every_table(app: App) -> None:
    async with app.database.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {
        "people",
        "identities",
        "invites",
        "entries",
        "entry_questions",
        "questions",
        "tickets",
        "ticket_events",
        "outbox",
        "inbound",
        "menus",
        "alembic_version",
    } <= tables


async def test_the_migrations_build_exactly_the_tables_the_code_declares(app: App) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from helpdesk.storage.tables import Base

    async with app.database.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
        )
    assert diff == []


async def test_upgrading_twice_is_harmless(app: App) -> None:
    await app.database.upgrade()
    await app.database.upgrade()


async def test_people_round_trip(app: App, clock: FakeClock) -> None:
    person = Person(
        name="Vesna",
        role=Role.EXPERT,
        city="Sarajevo",
        country="BiH",
        languages=("bs", "en"),
        topics=("youth",),
        capacity=5,
        away_until=clock() + timedelta(days=1),
        identities=[ChatIdentity("telegram", "42"), ChatIdentity("matrix", "@v:hub")],
        created_at=clock(),
    )
    async with app.uow() as uow:
        await uow.people.add(person)
        await uow.commit()
    async with app.uow() as uow:
        loaded = await uow.people.by_identity(ChatIdentity("matrix", "@v:hub"))
    assert loaded == person
    assert loaded is not None and loaded.away_until is not None
    assert loaded.away_until.tzinfo is not None


async def test_replies_go_where_the_person_last_wrote_from(app: App, clock: FakeClock) -> None:
    person = Person(
        name="V",
        role=Role.EXPERT,
        created_at=clock(),
        identities=[ChatIdentity("telegram", "42"), ChatIdentity("matrix", "@v")],
    )
    async with app.uow() as uow:
        await uow.people.add(person)
        assert person.id is not None
        await uow.people.touch(ChatIdentity("telegram", "42"), clock())
        clock.advance(minutes=1)
        await uow.people.touch(ChatIdentity("matrix", "@v"), clock())
        assert await uow.people.reachable_at(person.id) == ChatIdentity("matrix", "@v")
        await uow.commit()


async def test_last_seen_follows_the_person_from_place_to_place_within_a_minute(
    app: App, clock: FakeClock
) -> None:
    telegram, matrix = ChatIdentity("telegram", "42"), ChatIdentity("matrix", "@v")
    person = Person(name="V", role=Role.EXPERT, created_at=clock(), identities=[telegram, matrix])
    async with app.uow() as uow:
        await uow.people.add(person)
        await uow.commit()
    assert person.id is not None

    async def writes_from(identity: ChatIdentity) -> None:
        """As every message does: who is it, then seen here."""
        async with app.uow() as uow:
            await uow.people.by_identity(identity)
            await uow.people.touch(identity, clock())
            await uow.commit()

    for identity in (telegram, matrix, telegram):
        clock.advance(seconds=10)
        await writes_from(identity)
        async with app.uow() as uow:
            assert await uow.people.reachable_at(person.id) == identity
    # Writing on from the same place a moment later needs no write at all.
    statements: list[str] = []
    event.listen(app.database.work_engine, "before_cursor_execute", _kept(statements))
    clock.advance(seconds=10)
    await writes_from(telegram)
    assert not [s for s in statements if s.startswith("UPDATE")], statements


def _kept(statements: list[str]) -> Any:
    def keep(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    return keep


async def test_uncommitted_work_is_rolled_back(app: App, clock: FakeClock) -> None:
    async with app.uow() as uow:
        await uow.people.add(Person(name="Ghost", role=Role.OFFICIAL, created_at=clock()))
    async with app.uow() as uow:
        assert await uow.people.all() == []


async def test_entries_upsert_and_revision(app: App, clock: FakeClock) -> None:
    report = await import_entries(app.uow, ENTRIES, clock)
    assert sorted(report.created) == sorted(e.id for e in ENTRIES)
    async with app.uow() as uow:
        revision = await uow.entries.revision()
        assert await uow.entries.all() == sorted(ENTRIES, key=lambda e: e.id)
    again = await import_entries(app.uow, ENTRIES, clock)
    assert sorted(again.unchanged) == sorted(e.id for e in ENTRIES)
    clock.advance(seconds=1)
    changed = dataclasses.replace(ENTRIES[0], questions=("Only this one now?",))
    assert (await import_entries(app.uow, [changed], clock)).updated == [changed.id]
    async with app.uow() as uow:
        assert await uow.entries.revision() != revision
        assert await uow.entries.get(changed.id) == changed
    replaced = await import_entries(app.uow, [changed], clock, replace=True)
    assert replaced.retired == len(ENTRIES) - 1 and replaced.published == 1
    async with app.uow() as uow:
        assert len(await uow.entries.all(EntryStatus.RETIRED)) == len(ENTRIES) - 1


async def test_tickets_keep_their_history(app: App, clock: FakeClock) -> None:
    async with app.uow() as uow:
        official = await uow.people.add(Person(name="O", role=Role.OFFICIAL, created_at=clock()))
        expert = await uow.people.add(Person(name="E", role=Role.EXPERT, created_at=clock()))
        assert official.id and expert.id
        question = await uow.questions.add(
            AskedQuestion(
                person_id=official.id,
                text="Q?",
                normalized="q",
                action=Action.ESCALATE,
                candidates=(Candidate("a", "A", 12.5),),
                created_at=clock(),
            )
        )
        ticket = Ticket.create(
            official.id, "Q?", clock(), language="mk", topics=("youth",), question_id=question.id
        )
        await uow.tickets.add(ticket)
        ticket.assign(expert.id, clock(), reason="because")
        await uow.tickets.save(ticket)
        await uow.commit()
    async with app.uow() as uow:
        assert ticket.id is not None
        loaded = await uow.tickets.get(ticket.id)
        assert loaded is not None
        assert loaded.status is TicketStatus.ASSIGNED and len(loaded.events) == 2
        loaded.answer_with(expert.id, "A.", clock())
        loaded.rate(Feedback.HELPFUL, clock())
        await uow.tickets.save(loaded)
        await uow.tickets.save(loaded)  # saving twice adds no duplicate events
        await uow.commit()
    async with app.uow() as uow:
        final = await uow.tickets.get(ticket.id)
        assert final is not None
        assert [e.kind.value for e in final.events] == [
            "created",
            "assigned",
            "answered",
            "rated",
            "closed",
        ]
        assert final.rating is Feedback.HELPFUL and final.topics == ("youth",)
        (load,) = await uow.people.expert_loads()
        assert load.open_tickets == 0 and load.last_assigned_at == clock()
        assert await uow.tickets.find(official_id=official.id) == [final]
        assert await uow.tickets.find(statuses=[TicketStatus.OPEN]) == []
        assert await uow.tickets.count_by_status() == {"closed": 1}
        stored = await uow.questions.get(question.id or 0)
        assert stored is not None and stored.candidates == (Candidate("a", "A", 12.5),)


async def test_expert_loads_count_each_experts_open_tickets_and_latest_assignment(
    app: App, clock: FakeClock
) -> None:
    async with app.uow() as uow:
        official = await uow.people.add(Person(name="O", role=Role.OFFICIAL, created_at=clock()))
        busy, idle, gone = [
            await uow.people.add(
                Person(
                    name=name,
                    role=Role.EXPERT,
                    identities=[ChatIdentity("test", name)],
                    created_at=clock(),
                )
            )
            for name in ("busy", "idle", "gone")
        ]
        assert official.id and busy.id and idle.id and gone.id
        for minutes in (1, 2, 3):
            ticket = Ticket.create(official.id, f"Q{minutes}?", clock())
            await uow.tickets.add(ticket)
            ticket.assign(busy.id, clock() + timedelta(minutes=minutes))
            if minutes == 3:
                ticket.answer_with(busy.id, "A.", clock() + timedelta(minutes=4))
            await uow.tickets.save(ticket)
        await uow.commit()
    async with app.uow() as uow:  # as erasure leaves them (privacy.py)
        await uow.session.execute(
            update(PersonRow).where(PersonRow.id == gone.id).values(erased_at=clock())
        )
        await uow.commit()
    async with app.uow() as uow:
        loads = await uow.people.expert_loads()
    # In id order; the erased are nobody to route to; an answered ticket is not open.
    assert [(load.expert.name, load.open_tickets) for load in loads] == [("busy", 2), ("idle", 0)]
    assert loads[0].last_assigned_at == clock() + timedelta(minutes=3)
    assert loads[1].last_assigned_at is None
    assert loads[0].expert.identities == [ChatIdentity("test", "busy")]


async def test_a_question_saved_just_after_it_was_added_or_after_it_was_read(
    app: App, clock: FakeClock
) -> None:
    asked = AskedQuestion(
        person_id=None, text="Q?", normalized="q", action=Action.ESCALATE, created_at=clock()
    )
    async with app.uow() as uow:
        await uow.questions.add(asked)
        asked.entry_id = "a"  # saved in the unit of work that added it: one UPDATE
        await uow.questions.save(asked)
        assert await uow.questions.get(asked.id or 0) == asked
        await uow.commit()
    async with app.uow() as uow:
        read = await uow.questions.get(asked.id or 0)
        assert read == asked
        read.feedback = Feedback.HELPFUL  # read in another unit of work, then saved
        await uow.questions.save(read)
        assert await uow.questions.get(read.id or 0) == read
        await uow.commit()
    async with app.uow() as uow:
        final = await uow.questions.get(asked.id or 0)
    assert final is not None and final.entry_id == "a" and final.feedback is Feedback.HELPFUL


async def test_outbox_inbound_menus_and_invites(app: App, clock: FakeClock) -> None:
    reply = Reply(
        (
            Text(Msg.EXPERT_NEW_TICKET, {"ticket": 3, "place": "Strumica", "language": "mk"}),
            Quote("Q?"),
        ),
        buttons=(Button(Text(Msg.BUTTON_DECLINE), DeclineTicket(3)),),
        ref="ticket:3",
    )
    async with app.uow() as uow:
        item = await uow.outbox.add(ChatIdentity("matrix", "@e"), None, "mk", reply, clock())
        assert await uow.inbound.claim("matrix", "$event", None, clock())
        assert not await uow.inbound.claim("matrix", "$event", None, clock())
        person = await uow.people.add(Person(name="P", role=Role.OFFICIAL, created_at=clock()))
        assert person.id is not None
        first = Reply(
            (Quote("A?"),),
            buttons=(
                Button(Quote("a"), EscalateQuestion(1)),
                Button(Quote("b"), EscalateQuestion(2)),
            ),
        )
        second = Reply(
            (Quote("C?"),), buttons=(Button(Quote("c"), DeclineTicket(3)),), ref="ticket:3"
        )
        await uow.menus.set(person.id, offered(offered(Menus(), first), second), clock())
        stored = await uow.menus.get(person.id)
        assert stored.live and [m.actions for m in stored.stack] == [
            ("/escalate 1", "/escalate 2"),
            ("/decline 3",),
        ]
        assert stored.choice(1) == "/decline 3" and stored.stack[-1].reply.ref == "ticket:3"
        await uow.menus.stale(person.id)
        assert not (await uow.menus.get(person.id)).live
        await uow.invites.add(
            Invite(
                code_hash=hash_code("ab-cd"),
                role=Role.EXPERT,
                created_at=clock(),
                expires_at=clock() + timedelta(days=1),
            )
        )
        await uow.commit()
    async with app.uow() as uow:
        pending = await uow.outbox.next_due(["matrix"], clock())
        assert pending is not None
        assert pending.id == item and pending.reply == reply and pending.language == "mk"
        assert await uow.outbox.next_due(["telegram"], clock()) is None
        await uow.outbox.mark_delivered(item, "$sent", clock())
        assert await uow.outbox.sent_reply("matrix", "$sent") == reply
        assert await uow.outbox.sent_reply("matrix", "$other") is None
        invite = await uow.invites.by_code_hash(hash_code("AB CD"))
        assert invite is not None and invite.is_valid(clock())
        await uow.commit()
    async with app.uow() as uow:
        assert await uow.outbox.next_due(["matrix"], clock()) is None


@pytest.mark.parametrize(
    "url",
    ["not a url", "mysql://user@host/db", "oracle://x", ""],
)
def test_bad_database_urls_are_refused_in_one_line(url: str) -> None:
    with pytest.raises(DatabaseError) as raised:
        Database.connect(url)
    assert "\n" not in str(raised.value)


def test_plain_urls_get_the_async_driver() -> None:
    assert async_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
    assert async_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("sqlite+aiosqlite:///x.db").drivername == "sqlite+aiosqlite"


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite+pysqlite:///x.db", "sqlite+aiosqlite"),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+asyncpg"),
        ("postgres+pg8000://u:p@h/db", "postgresql+asyncpg"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+asyncpg"),
    ],
)
def test_synchronous_drivers_are_mapped_to_the_async_ones_we_ship(url: str, driver: str) -> None:
    assert async_url(url).drivername == driver


def test_libpq_sslmode_becomes_asyncpgs_ssl() -> None:
    url = async_url("postgresql://u:p@h/db?sslmode=require&target_session_attrs=read-write")
    assert dict(url.query) == {"ssl": "require", "target_session_attrs": "read-write"}


PASSWORD = "SECRETPW"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"postgresql//u:{PASSWORD}@h/db", "not a database URL (write sqlite:///"),
        (f"postgresql://u:{PASSWORD}@h:54x2/db", "the port in the URL is not a number"),
        (f"postgresql://u:{PASSWORD}@h:99999/db", "a number from 1 to 65535"),
        (f"postgresql://u:{PASSWORD}@h/db?sslmode=required", "sslmode must be one of disable"),
        (f"postgresql://u:{PASSWORD}@h/db?ssl=require&ssl=disable", "'ssl' is given twice"),
        (f"postgresql://u:{PASSWORD}@h/db?sslrootcert=/ca.pem", "set PGSSLROOTCERT"),
        (f"postgresql://u:{PASSWORD}@h/db?connect_timeout=5", "'connect_timeout' is not"),
        (f"postgresql+nosuch://u:{PASSWORD}@h/db", "the driver 'postgresql+nosuch' is not"),
        (f"sqlite:///x.db?password={PASSWORD}", "SQLite URLs take no parameters"),
        (f"mysql://u:{PASSWORD}@h/db", "unsupported database: 'mysql'"),
    ],
)
def test_a_url_is_refused_in_one_line_without_its_password(url: str, reason: str) -> None:
    with pytest.raises(DatabaseError) as raised:
        Database.connect(url)
    message = str(raised.value)
    assert reason in message and PASSWORD not in message and "\n" not in message


@pytest.mark.parametrize("sslmode", ["disable", "prefer", "allow"])
async def test_postgresql_takes_sslmode_as_people_write_it(
    postgres: PostgresServer, sslmode: str
) -> None:
    database = Database.connect(f"{postgres.new_database(template=PG_TEMPLATE)}?sslmode={sslmode}")
    try:
        await database.upgrade()
        assert await database.ping()
    finally:
        await database.close()


async def test_sslmode_require_without_ssl_on_the_server_is_a_database_error(
    postgres: PostgresServer,
) -> None:
    # The test server has no certificate: asyncpg must be asked for SSL, and say no.
    url = postgres.new_database(template=PG_TEMPLATE).replace("@", f":{PASSWORD}@", 1)
    database = Database.connect(f"{url}?sslmode=require")
    try:
        with pytest.raises(DatabaseError) as raised:
            await database.upgrade()
    finally:
        await database.close()
    assert PASSWORD not in str(raised.value) and "\n" not in str(raised.value)


def test_a_sqlite_file_in_a_missing_folder_is_a_database_error() -> None:
    with pytest.raises(DatabaseError, match="folder /nonexistent-dir/sub does not exist"):
        Database.connect("sqlite:////nonexistent-dir/sub/helpdesk.db")


async def test_outbox_failures_are_final_listed_and_resendable(app: App, clock: FakeClock) -> None:
    async with app.uow() as uow:
        ana = await uow.people.add(Person(name="Ana", role=Role.OFFICIAL, created_at=clock()))
        vesna = await uow.people.add(Person(name="Vesna", role=Role.EXPERT, created_at=clock()))
        assert ana.id is not None and vesna.id is not None
        about_ana = Reply((Quote("Ana's question"),), mentions=(ana.id, vesna.id))
        item = await uow.outbox.add(
            ChatIdentity("telegram", "42"), vesna.id, "en", about_ana, clock()
        )
        other = await uow.outbox.add(
            ChatIdentity("telegram", "43"), None, "en", Reply.say(Msg.GROUP_REFUSED), clock()
        )
        await uow.commit()
    async with app.uow() as uow:
        first = clock()
        await uow.outbox.mark_failed(item, "NetworkError: down", first, first)
        clock.advance(minutes=1)
        await uow.outbox.mark_failed(item, "NetworkError: down", clock(), clock())
        await uow.outbox.give_up(item, "Forbidden: bot was blocked by the user", clock())
        await uow.commit()
    async with app.uow() as uow:
        assert (await uow.outbox.next_due(["telegram"], clock() + timedelta(days=1))).id == other  # type: ignore[union-attr]
        [failed] = await uow.outbox.failed()
        assert failed.id == item and failed.attempts == 3 and failed.failed_at == clock()
        assert failed.failing_since == first
        assert failed.last_error == "Forbidden: bot was blocked by the user"
        assert failed.reply == dataclasses.replace(about_ana, mentions=())
        mentioned = await uow.session.execute(  # type: ignore[attr-defined]
            select(OutboxMentionRow.person_id).where(OutboxMentionRow.outbox_id == item)
        )
        assert [p for (p,) in mentioned] == [ana.id]  # not the recipient
        assert await uow.outbox.resend(item)
        assert not await uow.outbox.resend(item)
        assert not await uow.outbox.resend(other)  # pending, never failed
        await uow.commit()
    async with app.uow() as uow:
        assert await uow.outbox.failed() == []
        due = await uow.outbox.next_due(["telegram"], clock())
        assert due is not None and due.id == item and due.attempts == 0
        assert due.failing_since is None


async def test_inbound_message_ids_are_kept_only_as_hashes(app: App, clock: FakeClock) -> None:
    async with app.uow() as uow:
        assert await uow.inbound.claim("telegram", "123456789:17", None, clock())
        assert not await uow.inbound.claim("telegram", "123456789:17", None, clock())
        assert await uow.inbound.claim("matrix", "123456789:17", None, clock())
        await uow.commit()
    async with app.database.engine.connect() as connection:
        stored = (await connection.execute(sql_text("select message_id from inbound"))).all()
    assert len(stored) == 2 and all("123456789" not in m for (m,) in stored)
