"""People, their chat identities, and the invitations they join with."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update

from helpdesk.domain.invites import Invite
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.routing import ExpertLoad
from helpdesk.domain.tickets import TicketEventKind, TicketStatus
from helpdesk.storage._mapping import AS_LIST, Mapper, enum
from helpdesk.storage._repository import Repository, built_once, table_of
from helpdesk.storage.session import Session
from helpdesk.storage.tables import IdentityRow, InviteRow, PersonRow, TicketEventRow, TicketRow

__all__ = ["SqlInvites", "SqlPeople"]

PERSON = Mapper(
    Person,
    PersonRow,
    stored={"role": enum(Role), "languages": AS_LIST, "topics": AS_LIST},
    given=["identities"],
    # Only erasure sets it, in one statement with the rest of the tombstone.
    read_only=["erased_at"],
)
INVITE = Mapper(
    Invite, InviteRow, stored={"role": enum(Role), "languages": AS_LIST, "topics": AS_LIST}
)


def _identity(row: IdentityRow) -> ChatIdentity:
    return ChatIdentity(row.platform, row.address)


# How stale "last seen" may be left for the identity a person last wrote from.
_SEEN_PRECISION = timedelta(minutes=1)


# The statements every message runs are built once (see ``built_once``), for an identity
# given as these parameters.
def _address(identity: ChatIdentity) -> dict[str, str]:
    return {"chat_platform": identity.platform, "chat_address": identity.address}


def _owner() -> Any:
    """The id of the person the identity belongs to."""
    identities = table_of(IdentityRow)
    return (
        select(identities.c.person_id)
        .where(identities.c.platform == bindparam("chat_platform"))
        .where(identities.c.address == bindparam("chat_address"))
        .scalar_subquery()
    )


@built_once
def _by_identity() -> Any:
    # One statement: the person's columns, once per identity they have, each row with one
    # of them. Plain columns: no ORM object to build for a row most messages only read.
    people, identities = table_of(PersonRow), table_of(IdentityRow)
    return (
        select(
            people,
            identities.c.platform.label("identity_platform"),
            identities.c.address.label("identity_address"),
            identities.c.last_seen_at.label("identity_seen"),
        )
        .join(identities, identities.c.person_id == people.c.id)
        .where(people.c.id == _owner())
        .order_by(identities.c.id)
    )


@built_once
def _touch() -> Any:
    identities = table_of(IdentityRow)
    return (
        update(identities)
        .where(identities.c.platform == bindparam("chat_platform"))
        .where(identities.c.address == bindparam("chat_address"))
        .values(last_seen_at=bindparam("at"))
    )


@built_once
def _remember_language() -> Any:
    people = table_of(PersonRow)
    return update(people).where(people.c.id == _owner()).values(last_language=bindparam("language"))


@built_once
def _everyone() -> Any:
    return select(PersonRow).where(PersonRow.erased_at.is_(None)).order_by(PersonRow.id)


@built_once
def _everyone_as() -> Any:
    return _everyone().where(PersonRow.role == bindparam("role"))


@built_once
def _expert_loads() -> Any:
    # One statement: each expert with their open tickets and their latest assignment.
    open_tickets = (
        select(TicketRow.assignee_id.label("expert_id"), func.count().label("open"))
        .where(TicketRow.status == TicketStatus.ASSIGNED.value)
        .where(TicketRow.assignee_id.is_not(None))
        .group_by(TicketRow.assignee_id)
        .subquery()
    )
    assigned = (
        select(TicketEventRow.expert_id, func.max(TicketEventRow.at).label("last"))
        .where(
            TicketEventRow.kind.in_(
                [TicketEventKind.ASSIGNED.value, TicketEventKind.REASSIGNED.value]
            )
        )
        .where(TicketEventRow.expert_id.is_not(None))
        .group_by(TicketEventRow.expert_id)
        .subquery()
    )
    return (
        _everyone_as()
        .add_columns(open_tickets.c.open, assigned.c.last)
        .outerjoin(open_tickets, open_tickets.c.expert_id == PersonRow.id)
        .outerjoin(assigned, assigned.c.expert_id == PersonRow.id)
    )


class SqlPeople(Repository):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        # When each identity read by by_identity was last seen, and its person's others.
        self._seen: dict[ChatIdentity, tuple[datetime | None, list[datetime | None]]] = {}

    async def get(self, person_id: int) -> Person | None:
        row = await self.session.get(PersonRow, person_id)
        return (await self._people([row]))[0] if row else None

    async def by_identity(self, identity: ChatIdentity) -> Person | None:
        rows = (await self.session.execute(_by_identity(), _address(identity))).all()
        if not rows:
            return None
        identities = [ChatIdentity(row.identity_platform, row.identity_address) for row in rows]
        seen = [_as_utc(row.identity_seen) if row.identity_seen else None for row in rows]
        own = identities.index(identity)
        others = [when for i, when in enumerate(seen) if i != own]
        self._seen[identity] = (seen[own], others)
        return PERSON.to_domain(rows[0], identities=identities)

    async def add(self, person: Person) -> Person:
        assert person.created_at is not None, "a person needs created_at before it is stored"
        person.id = (await self._insert(PERSON.new_row(person))).id
        await self._add_identities(person)
        return person

    async def save(self, person: Person) -> None:
        assert person.created_at is not None, "a person needs created_at before it is stored"
        PERSON.fill(await self._stored(PersonRow, person.id), person)
        await self._add_identities(person)

    async def all(self, role: Role | None = None) -> list[Person]:
        # The erased stay as anonymous rows for statistics; they are nobody to route to.
        if role is None:
            rows = await self.session.scalars(_everyone())
        else:
            rows = await self.session.scalars(_everyone_as(), {"role": role.value})
        return await self._people(list(rows))

    async def expert_loads(self) -> list[ExpertLoad]:
        rows = (await self.session.execute(_expert_loads(), {"role": Role.EXPERT.value})).all()
        experts = await self._people([row[0] for row in rows])
        return [
            # func.max bypasses the column type on some backends: make it aware again
            ExpertLoad(expert, row.open or 0, _as_utc(row.last) if row.last else None)
            for expert, row in zip(experts, rows, strict=True)
        ]

    async def touch(self, identity: ChatIdentity, at: datetime) -> None:
        # One UPDATE less for most messages: someone writing on from where they wrote a
        # moment ago is found there all the same (reachable_at orders by it).
        if identity in self._seen:
            own, others = self._seen[identity]
            if (
                own is not None
                and timedelta(0) <= at - own < _SEEN_PRECISION
                and all(other is None or other < own for other in others)
            ):
                return
        await self.session.execute(_touch(), {**_address(identity), "at": at})

    async def remember_language(self, identity: ChatIdentity, language: str) -> None:
        await self.session.execute(
            _remember_language(), {**_address(identity), "language": language}
        )

    async def reachable_at(self, person_id: int) -> ChatIdentity | None:
        row = await self.session.scalar(
            select(IdentityRow)
            .where(IdentityRow.person_id == person_id)
            .order_by(IdentityRow.last_seen_at.desc().nulls_last(), IdentityRow.id.desc())
            .limit(1)
        )
        return _identity(row) if row else None

    async def _people(self, rows: Sequence[PersonRow]) -> list[Person]:
        identities = await self._children(
            IdentityRow.person_id, [row.id for row in rows], IdentityRow.id, IdentityRow, _identity
        )
        return [PERSON.to_domain(row, identities=identities[row.id]) for row in rows]

    async def _add_identities(self, person: Person) -> None:
        known = set(
            (
                await self.session.execute(
                    select(IdentityRow.platform, IdentityRow.address).where(
                        IdentityRow.person_id == person.id
                    )
                )
            ).all()
        )
        for identity in person.identities:
            if (identity.platform, identity.address) not in known:
                self.session.add(
                    IdentityRow(
                        person_id=person.id, platform=identity.platform, address=identity.address
                    )
                )
        await self.session.flush()


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class SqlInvites(Repository):
    async def add(self, invite: Invite) -> Invite:
        invite.id = (await self._insert(INVITE.new_row(invite))).id
        return invite

    async def by_code_hash(self, code_hash: str) -> Invite | None:
        row = await self.session.scalar(select(InviteRow).where(InviteRow.code_hash == code_hash))
        return INVITE.to_domain(row) if row is not None else None

    async def save(self, invite: Invite) -> None:
        INVITE.fill(await self._stored(InviteRow, invite.id), invite)
        await self.session.flush()

    async def get(self, invite_id: int) -> Invite | None:
        return await self._get(INVITE, invite_id)

    async def recent(self, limit: int = 100) -> list[Invite]:
        query = select(InviteRow).order_by(InviteRow.id.desc()).limit(limit)
        return [INVITE.to_domain(row) for row in await self.session.scalars(query)]
