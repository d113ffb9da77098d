"""Scheduled actions on a real database: claimed by one worker only, never lost when the
worker dies between claiming and sending, each message out once."""

import asyncio
from pathlib import Path

from sqlalchemy import text

from helpdesk.bootstrap import App, bootstrap
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.schedule import ActionKind, ScheduledAction
from helpdesk.services.conversation import Inbound
from helpdesk.services.due import run_due
from helpdesk.settings import Settings
from tests.fakes import FakeClock


async def people(app: App, experts: int = 1) -> None:
    async with app.uow() as uow:
        now = app.clock()
        await uow.people.add(
            Person(
                "Ana",
                Role.OFFICIAL,
                languages=("en",),
                identities=[ChatIdentity("test", "ana")],
                created_at=now,
            )
        )
        for i in range(experts):
            await uow.people.add(
                Person(
                    f"Expert {i}",
                    Role.EXPERT,
                    languages=("en",),
                    capacity=100,
                    identities=[ChatIdentity("test", f"expert-{i}")],
                    created_at=now,
                )
            )
        await uow.commit()


async def ask(app: App, count: int) -> None:
    for i in range(count):
        await app.helpdesk.handle(
            Inbound("test", "ana", f"/ask Question {i} about street lighting budgets", f"m{i}")
        )


async def reminders_queued(app: App) -> int:
    async with app.database.engine.connect() as connection:
        found = await connection.execute(
            text("select count(*) from outbox where cast(payload as text) like '%expert.reminder%'")
        )
        return int(found.scalar_one())


async def test_a_claim_that_dies_before_its_commit_is_run_again_once(
    app: App, clock: FakeClock
) -> None:
    await people(app)
    await ask(app, 1)
    clock.advance(hours=24)
    # A worker claims the reminder and dies before committing: nothing happened.
    async with app.uow() as uow:
        claimed = await uow.schedule.claim_due(clock())
        assert claimed is not None and claimed.kind is ActionKind.REMIND_EXPERT
    assert await reminders_queued(app) == 0
    timings = app.helpdesk.timings
    assert await run_due(app.uow, clock, timings) == 1
    assert await run_due(app.uow, clock, timings) == 0
    assert await reminders_queued(app) == 1


async def test_two_schedulers_on_one_database_send_each_thing_once(
    app: App, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    await people(app, experts=2)
    await ask(app, 12)
    second = await bootstrap(
        Settings(database_url=database_url, knowledge_dir=tmp_path / "none"), clock=clock
    )
    try:
        clock.advance(hours=24)
        timings = app.helpdesk.timings
        ran = await asyncio.gather(
            run_due(app.uow, clock, timings), run_due(second.uow, clock, timings)
        )
        assert sum(ran) == 12  # neither repeated what the other did
        assert await reminders_queued(app) == 12
        async with app.database.engine.connect() as connection:
            outcomes = await connection.execute(
                text(
                    "select outcome, count(*) from scheduled_actions where kind = 'remind_expert'"
                    " group by outcome"
                )
            )
            assert dict(outcomes.all()) == {"sent": 12}
    finally:
        await second.close()


async def test_actions_survive_a_restart_and_run_when_due(
    app: App, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    await people(app)
    async with app.uow() as uow:
        ana = await uow.people.by_identity(ChatIdentity("test", "ana"))
        assert ana is not None and ana.id is not None
        await uow.schedule.add(
            ScheduledAction(ActionKind.DIGEST, clock(), ana.id, created_at=clock())
        )
        await uow.commit()
    await app.close()
    again = await bootstrap(
        Settings(database_url=database_url, knowledge_dir=tmp_path / "none"), clock=clock
    )
    try:
        assert await run_due(again.uow, clock, again.helpdesk.timings) == 1
        async with again.uow() as uow:
            assert [a.kind for a in await uow.schedule.pending()] == [ActionKind.DIGEST]
    finally:
        await again.close()
