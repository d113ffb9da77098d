"""What staff do from the command line (and later the web console), as use cases over a
Context: an invitation and a role change, each with its audit record."""

from datetime import timedelta

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.invites import hash_code
from helpdesk.domain.people import Person, Role
from helpdesk.services.context import Context
from helpdesk.services.invitations import create_invite
from helpdesk.services.people import change_role
from tests.fakes import FakeClock, FakeStore, FakeUnitOfWork


async def test_an_invitation_stores_only_the_hash_of_its_code_and_is_audited(
    store: FakeStore, clock: FakeClock
) -> None:
    async with FakeUnitOfWork(store) as uow:
        created = await create_invite(
            Context(uow, clock()),
            "ana (cli)",
            Role.EXPERT,
            timedelta(days=7),
            name="Vesna",
            languages=("bs", "en"),
        )
        await uow.commit()
    [stored] = store.invites.values()
    assert stored.code_hash == hash_code(created.code) != created.code
    assert stored.expires_at == clock() + timedelta(days=7)
    assert stored.role is Role.EXPERT and stored.languages == ("bs", "en")
    [event] = store.audit
    assert (event.actor, event.action, event.subject) == (
        "ana (cli)",
        AuditAction.INVITE,
        f"invite:{stored.id}",
    )
    assert event.detail == "expert Vesna"


async def test_a_role_change_says_what_it_was_and_is_audited(
    store: FakeStore, clock: FakeClock
) -> None:
    async with FakeUnitOfWork(store) as uow:
        person = await uow.people.add(Person(name="Ana", role=Role.OFFICIAL, created_at=clock()))
        assert person.id is not None
        before = await change_role(Context(uow, clock()), person.id, Role.STAFF, "ana (cli)")
        await uow.commit()
    assert before is Role.OFFICIAL
    assert store.people[person.id].role is Role.STAFF
    [event] = store.audit
    assert (event.action, event.subject, event.detail) == (
        AuditAction.ROLE,
        f"person:{person.id}",
        "official → staff",
    )


async def test_a_role_change_for_nobody_changes_nothing(store: FakeStore, clock: FakeClock) -> None:
    async with FakeUnitOfWork(store) as uow:
        assert await change_role(Context(uow, clock()), 99, Role.STAFF, "ana (cli)") is None
    assert store.audit == []
