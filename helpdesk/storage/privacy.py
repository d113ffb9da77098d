"""A person's data: everything stored about them (export), erasing it (the right to be
forgotten), and dropping old question texts (retention).

Erasing keeps what statistics need and nothing that says who asked what: the person's row
stays as an anonymous tombstone (role, city, country: the weekly figures by city still add
up), their chat addresses go, and every text they wrote is blanked. Answers that experts
wrote stay: they belong to the hub's knowledge, not to the person who asked.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from helpdesk.domain.curation import scrub
from helpdesk.domain.tickets import TicketStatus
from helpdesk.storage.tables import (
    AuditRow,
    ConnectionRequestRow,
    IdentityRow,
    InboundRow,
    InviteRow,
    MenuRow,
    OutboxRow,
    PersonRow,
    ProposalRow,
    QuestionRow,
    ScheduledActionRow,
    TicketEventRow,
    TicketRow,
)

__all__ = ["ERASED_NAME", "SqlPersonalData"]

ERASED_NAME = "(erased)"
_ACTIVE = [s.value for s in TicketStatus if s.is_active]


def _plain(row: DeclarativeBase) -> dict[str, Any]:
    """A row as JSON-ready data, column by column (datetimes in ISO 8601, UTC)."""
    data: dict[str, Any] = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        data[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return data


async def _bulk(session: AsyncSession, statement: Any) -> int:
    """Run a bulk UPDATE or DELETE (no ORM objects synchronised); how many rows it hit."""
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


class SqlPersonalData:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def export(self, person_id: int) -> dict[str, Any] | None:
        person = await self.session.get(PersonRow, person_id)
        if person is None:
            return None

        async def rows(query: Any) -> list[dict[str, Any]]:
            return [_plain(row) for row in await self.session.scalars(query)]

        tickets = select(TicketRow.id).where(
            or_(TicketRow.official_id == person_id, TicketRow.assignee_id == person_id)
        )
        return {
            "person": _plain(person),
            "identities": await rows(select(IdentityRow).where(IdentityRow.person_id == person_id)),
            "invitations": await rows(select(InviteRow).where(InviteRow.used_by == person_id)),
            "questions": await rows(
                select(QuestionRow).where(QuestionRow.person_id == person_id).order_by("id")
            ),
            "tickets": await rows(
                select(TicketRow)
                .where(
                    or_(
                        TicketRow.official_id == person_id,
                        TicketRow.assignee_id == person_id,
                        TicketRow.answered_by == person_id,
                    )
                )
                .order_by("id")
            ),
            "ticket_events": await rows(
                select(TicketEventRow)
                .where(
                    or_(
                        TicketEventRow.ticket_id.in_(tickets),
                        TicketEventRow.actor_id == person_id,
                        TicketEventRow.expert_id == person_id,
                    )
                )
                .order_by("id")
            ),
            "messages_sent_to_them": await rows(
                select(OutboxRow).where(OutboxRow.person_id == person_id).order_by("id")
            ),
            "messages_received_from_them": await rows(
                select(InboundRow).where(InboundRow.person_id == person_id).order_by("id")
            ),
            "scheduled": await rows(
                select(ScheduledActionRow)
                .where(ScheduledActionRow.person_id == person_id)
                .order_by("id")
            ),
            "connection_requests": await rows(
                select(ConnectionRequestRow).where(ConnectionRequestRow.official_id == person_id)
            ),
            "proposals_from_their_questions": await rows(
                select(ProposalRow).where(
                    ProposalRow.question_id.in_(
                        select(QuestionRow.id).where(QuestionRow.person_id == person_id)
                    )
                )
            ),
            "audit": await rows(
                select(AuditRow)
                .where(
                    or_(
                        AuditRow.subject == f"person:{person_id}",
                        AuditRow.actor.like(f"% (#{person_id})"),
                    )
                )
                .order_by("id")
            ),
        }

    async def erase(self, person_id: int, now: datetime) -> dict[str, int]:
        """Erase the person's personal data; returns how many rows of each kind changed."""
        counts: dict[str, int] = {}

        async def run(name: str, statement: Any) -> None:
            counts[name] = counts.get(name, 0) + await _bulk(self.session, statement)

        own_tickets = select(TicketRow.id).where(TicketRow.official_id == person_id)
        ticket_ids: Sequence[int] = list(await self.session.scalars(own_tickets))
        # Read before their questions lose the person's id below.
        question_ids: Sequence[int] = list(
            await self.session.scalars(
                select(QuestionRow.id).where(QuestionRow.person_id == person_id)
            )
        )
        refs = [f"ticket:{number}" for number in ticket_ids]
        # Messages quoting their questions, to them and to the experts who saw them.
        await run(
            "messages",
            delete(OutboxRow).where(or_(OutboxRow.person_id == person_id, OutboxRow.ref.in_(refs))),
        )
        await run(
            "questions",
            update(QuestionRow)
            .where(QuestionRow.person_id == person_id)
            .values(text="", normalized="", person_id=None),
        )
        await run(
            "proposals",
            # Accepted ones are curated phrasings of an entry now, no longer the person's.
            delete(ProposalRow).where(
                ProposalRow.question_id.in_(question_ids), ProposalRow.status != "accepted"
            ),
        )
        await run(
            "tickets",
            update(TicketRow)
            .where(TicketRow.official_id == person_id)
            .values(text="", comment=None, updated_at=now),
        )
        # An answer often greets the official by name: keep the answer, not the name.
        person = await self.session.get(PersonRow, person_id)
        name = person.name if person is not None else None
        for ticket in await self.session.scalars(
            select(TicketRow).where(TicketRow.id.in_(ticket_ids), TicketRow.answer.is_not(None))
        ):
            assert ticket.answer is not None
            ticket.answer = scrub(ticket.answer, name)
        await self.session.flush()
        await run(
            "tickets",
            update(TicketRow)
            .where(TicketRow.official_id == person_id, TicketRow.status.in_(_ACTIVE))
            .values(status=TicketStatus.CANCELLED.value),
        )
        # Tickets they held as an expert go back to the queue for someone else.
        await run(
            "tickets",
            update(TicketRow)
            .where(TicketRow.assignee_id == person_id, TicketRow.status.in_(_ACTIVE))
            .values(assignee_id=None, status=TicketStatus.OPEN.value, updated_at=now),
        )
        await run(
            "ticket_events",
            update(TicketEventRow)
            .where(TicketEventRow.ticket_id.in_(ticket_ids))
            .values(detail=""),
        )
        await run(
            "scheduled",
            update(ScheduledActionRow)
            .where(
                or_(
                    ScheduledActionRow.person_id == person_id,
                    ScheduledActionRow.ticket_id.in_(ticket_ids),
                ),
                ScheduledActionRow.done_at.is_(None),
            )
            .values(done_at=now, outcome="erased"),
        )
        await run(
            "connection_requests",
            delete(ConnectionRequestRow).where(ConnectionRequestRow.official_id == person_id),
        )
        await run("menus", delete(MenuRow).where(MenuRow.person_id == person_id))
        await run(
            "received",
            update(InboundRow).where(InboundRow.person_id == person_id).values(person_id=None),
        )
        await run(
            "invitations",
            update(InviteRow).where(InviteRow.used_by == person_id).values(name=None),
        )
        await run("identities", delete(IdentityRow).where(IdentityRow.person_id == person_id))
        await run(
            "person",
            update(PersonRow)
            .where(PersonRow.id == person_id)
            .values(
                name=ERASED_NAME,
                ui_language=None,
                away_until=None,
                capacity=0,
                erased_at=now,
            ),
        )
        return {name: count for name, count in counts.items() if count}

    async def purge_texts(self, before: datetime) -> int:
        """Blank question texts older than ``before`` and drop old delivered messages.
        Returns how many question texts were blanked."""
        blanked = await _bulk(
            self.session,
            update(QuestionRow)
            .where(QuestionRow.created_at < before, QuestionRow.text != "")
            .values(text="", normalized=""),
        )
        await _bulk(
            self.session,
            update(TicketRow)
            .where(
                TicketRow.updated_at < before,
                TicketRow.status.not_in(_ACTIVE),
                TicketRow.text != "",
            )
            .values(text="", comment=None),
        )
        await _bulk(
            self.session,
            delete(OutboxRow).where(
                OutboxRow.delivered_at.is_not(None), OutboxRow.delivered_at < before
            ),
        )
        await _bulk(self.session, delete(InboundRow).where(InboundRow.received_at < before))
        return blanked
