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

from sqlalchemy import String, cast, delete, literal, or_, select, update
from sqlalchemy.orm import DeclarativeBase

from helpdesk.domain.privacy import ERASED, Redaction
from helpdesk.domain.tickets import TicketStatus
from helpdesk.services.ports import Erasure
from helpdesk.storage._repository import Repository, bulk
from helpdesk.storage.tables import (
    AuditRow,
    ConnectionRequestRow,
    EntryQuestionRow,
    EntryRow,
    EntryVersionRow,
    IdentityRow,
    InboundRow,
    InviteRow,
    MenuRow,
    OutboxMentionRow,
    OutboxRow,
    PersonRow,
    ProposalRow,
    QuestionRow,
    ScheduledActionRow,
    TicketEventRow,
    TicketRow,
)

__all__ = ["SqlPersonalData"]

_ACTIVE = [s.value for s in TicketStatus if s.is_active]


def _plain(row: DeclarativeBase) -> dict[str, Any]:
    """A row as JSON-ready data, column by column (datetimes in ISO 8601, UTC)."""
    data: dict[str, Any] = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        data[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return data


class SqlPersonalData(Repository):
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
                        # Their invitation's creation, their requests to meet another city.
                        AuditRow.subject.in_(
                            select(literal("invite:") + cast(InviteRow.id, String)).where(
                                InviteRow.used_by == person_id
                            )
                        ),
                        AuditRow.subject.in_(
                            select(
                                literal("connection:") + cast(ConnectionRequestRow.id, String)
                            ).where(ConnectionRequestRow.official_id == person_id)
                        ),
                    )
                )
                .order_by("id")
            ),
        }

    async def erase(self, person_id: int, now: datetime, redaction: Redaction) -> Erasure:
        """Erase the person's personal data; what changed, and the entries rewritten."""
        counts: dict[str, int] = {}

        async def run(name: str, statement: Any) -> None:
            counts[name] = counts.get(name, 0) + await bulk(self.session, statement)

        def changed(name: str, count: int) -> None:
            if count:
                counts[name] = counts.get(name, 0) + count

        own_tickets = select(TicketRow.id).where(TicketRow.official_id == person_id)
        ticket_ids: Sequence[int] = list(await self.session.scalars(own_tickets))
        # Read before their questions lose the person's id below.
        question_ids: Sequence[int] = list(
            await self.session.scalars(
                select(QuestionRow.id).where(QuestionRow.person_id == person_id)
            )
        )
        written = [
            *await self.session.scalars(
                select(QuestionRow.text).where(QuestionRow.person_id == person_id)
            ),
            *await self.session.scalars(
                select(TicketRow.text).where(TicketRow.official_id == person_id)
            ),
            *(
                c
                for c in await self.session.scalars(
                    select(TicketRow.comment).where(TicketRow.official_id == person_id)
                )
                if c
            ),
        ]
        invited_as = [
            n
            for n in await self.session.scalars(
                select(InviteRow.name).where(InviteRow.used_by == person_id)
            )
            if n
        ]
        names = Redaction.of(
            [*redaction.replacements, *((n, ERASED) for n in invited_as)],
            anchors=redaction.anchors,
        )
        everything = Redaction.of(names.replacements, [*redaction.quotes, *written])

        refs = [f"ticket:{number}" for number in ticket_ids]
        # Messages to them, and those quoting their questions to the experts who saw them.
        await run(
            "messages",
            delete(OutboxRow).where(or_(OutboxRow.person_id == person_id, OutboxRow.ref.in_(refs))),
        )
        # Messages to others that show something of theirs (a list for staff, an expert's
        # notice, their name under an answer): kept for their recipients, without it.
        mentioning = select(OutboxMentionRow.outbox_id).where(
            OutboxMentionRow.person_id == person_id
        )
        for message in await self.session.scalars(
            select(OutboxRow).where(OutboxRow.id.in_(mentioning))
        ):
            message.payload = everything.json(message.payload)
            changed("messages", 1)
        await run(
            "messages",
            delete(OutboxMentionRow).where(OutboxMentionRow.person_id == person_id),
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
        # An answer often greets the official by name, or is signed by the expert: keep the
        # answer, not the name.
        for ticket in await self.session.scalars(
            select(TicketRow).where(
                or_(TicketRow.official_id == person_id, TicketRow.answered_by == person_id),
                TicketRow.answer.is_not(None),
            )
        ):
            assert ticket.answer is not None
            answer = names.text(ticket.answer)
            if answer != ticket.answer:
                ticket.answer = answer
                changed("tickets", 1)
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
        # Where they are named as the one who did something: the audit trail, the history
        # of entries, decisions on proposals, ticket events ("assigned by ...").
        for column in (AuditRow.actor, AuditRow.detail, EntryVersionRow.author):
            changed(
                "audit" if column.class_ is AuditRow else "entries",
                await self._rewrite(column, names),
            )
        changed("proposals", await self._rewrite(ProposalRow.decided_by, names))
        changed("ticket_events", await self._rewrite(TicketEventRow.detail, names))
        entries = await self._rewrite_entries(names)
        changed("entries", len(entries))
        await run(
            "person",
            update(PersonRow)
            .where(PersonRow.id == person_id)
            .values(
                name=ERASED,
                ui_language=None,
                last_language=None,
                away_until=None,
                capacity=0,
                erased_at=now,
            ),
        )
        return Erasure({name: count for name, count in counts.items() if count}, entries)

    async def _rewrite(self, column: Any, redaction: Redaction) -> int:
        """Apply the redaction to the rows of a text column that contain one of its
        phrases; how many rows changed."""
        table = column.class_
        found: dict[int, Any] = {}
        for needle in redaction.needles:
            pattern = (
                "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            for row in await self.session.scalars(
                select(table).where(column.like(pattern, escape="\\"))
            ):
                found[row.id] = row
        count = 0
        for row in found.values():
            before = getattr(row, column.key)
            after = redaction.text(before)
            if after != before:
                setattr(row, column.key, after)
                count += 1
        await self.session.flush()
        return count

    async def _rewrite_entries(self, names: Redaction) -> tuple[str, ...]:
        """Entries about the person (an expert credited under an answer: one of the
        redaction's anchors in the entry or in any version of it), their phrasings and
        every version, rewritten without the name. A promoted question stays: it is the
        hub's knowledge now, without its asker's name."""
        if not names.anchors:
            return ()
        rows = {row.id: row for row in await self.session.scalars(select(EntryRow))}
        versions = list(await self.session.scalars(select(EntryVersionRow)))
        about = {
            row.id
            for row in rows.values()
            if names.anchored(f"{row.title}\n{row.body}\n{row.source}\n{row.translations}")
        } | {v.entry_id for v in versions if names.anchored(str(v.snapshot))}
        for entry_id in about:
            row = rows.get(entry_id)
            if row is not None:
                row.title = names.text(row.title)
                row.body = names.text(row.body)
                row.source = names.text(row.source) if row.source else row.source
                row.translations = names.json(row.translations)
        for phrasing in await self.session.scalars(
            select(EntryQuestionRow).where(EntryQuestionRow.entry_id.in_(about))
        ):
            phrasing.text = names.text(phrasing.text)
        for version in versions:
            if version.entry_id in about:
                version.snapshot = names.json(version.snapshot)
        await self.session.flush()
        return tuple(sorted(about))

    async def purge_texts(self, before: datetime) -> int:
        """Blank question texts older than ``before`` and drop old delivered messages.
        Returns how many question texts were blanked."""
        blanked = await bulk(
            self.session,
            update(QuestionRow)
            .where(QuestionRow.created_at < before, QuestionRow.text != "")
            .values(text="", normalized=""),
        )
        await bulk(
            self.session,
            update(TicketRow)
            .where(
                TicketRow.updated_at < before,
                TicketRow.status.not_in(_ACTIVE),
                TicketRow.text != "",
            )
            .values(text="", comment=None),
        )
        await bulk(
            self.session,
            delete(OutboxRow).where(
                OutboxRow.delivered_at.is_not(None), OutboxRow.delivered_at < before
            ),
        )
        await bulk(self.session, delete(InboundRow).where(InboundRow.received_at < before))
        return blanked
