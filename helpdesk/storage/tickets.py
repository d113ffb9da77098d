"""Questions asked, the tickets some of them become, and each ticket's history."""

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update

from helpdesk.domain.questions import Action, AskedQuestion, Candidate, Feedback
from helpdesk.domain.tickets import FollowUp, Ticket, TicketEvent, TicketEventKind, TicketStatus
from helpdesk.storage._mapping import AS_LIST, Mapper, Stored, enum, optional_enum
from helpdesk.storage._repository import Repository, built_once, table_of
from helpdesk.storage.tables import QuestionRow, TicketEventRow, TicketRow

__all__ = ["SqlQuestions", "SqlTickets"]


def _candidates_to_json(candidates: Sequence[Candidate]) -> list[dict[str, Any]]:
    return [{"id": c.entry_id, "title": c.title, "score": c.score} for c in candidates]


def _candidates_from_json(data: Sequence[dict[str, Any]]) -> tuple[Candidate, ...]:
    return tuple(Candidate(str(c["id"]), str(c["title"]), float(c["score"])) for c in data)


_CANDIDATES = Stored(load=_candidates_from_json, dump=_candidates_to_json)

QUESTION = Mapper(
    AskedQuestion,
    QuestionRow,
    stored={
        "action": enum(Action),
        "candidates": _CANDIDATES,
        "suggested": _CANDIDATES,
        "feedback": optional_enum(Feedback),
    },
)
TICKET = Mapper(
    Ticket,
    TicketRow,
    stored={
        "topics": AS_LIST,
        "status": enum(TicketStatus),
        "rating": optional_enum(Feedback),
        "follow_up": optional_enum(FollowUp),
    },
    # The history is rows of its own, appended to.
    given=["events"],
)
EVENT = Mapper(TicketEvent, TicketEventRow, stored={"kind": enum(TicketEventKind)})


@built_once
def _saved_question() -> Any:
    table = table_of(QuestionRow)
    return update(table).where(table.c.id == bindparam("saved_id"))


class SqlQuestions(Repository):
    async def add(self, question: AskedQuestion) -> AskedQuestion:
        assert question.created_at is not None
        question.id = await self._insert_values(QuestionRow, QUESTION.values(question))
        return question

    async def get(self, question_id: int) -> AskedQuestion | None:
        return await self._get(QUESTION, question_id)

    async def since(self, at: datetime) -> list[AskedQuestion]:
        query = select(QuestionRow).where(QuestionRow.created_at >= at).order_by(QuestionRow.id)
        return [QUESTION.to_domain(row) for row in await self.session.scalars(query)]

    async def save(self, question: AskedQuestion) -> None:
        assert question.created_at is not None and question.id is not None
        if self.session.identity_key(QuestionRow, question.id) in self.session.identity_map:
            # Its row is held in this unit of work (changed, say, and not yet flushed):
            # written through it, so that a flush does not overwrite the UPDATE.
            QUESTION.fill(await self._stored(QuestionRow, question.id), question)
            await self.session.flush()
            return
        # One UPDATE, not a SELECT first (a question just added, given its ticket).
        await self.session.execute(
            _saved_question(), {"saved_id": question.id, **QUESTION.values(question)}
        )

    async def count_by_action(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(QuestionRow.action, func.count()).group_by(QuestionRow.action)
        )
        return dict(rows.all())


def _updated_at(ticket: Ticket) -> datetime:
    """When the ticket last changed: its latest event, or its creation."""
    return ticket.events[-1].at if ticket.events else ticket.created_at


class SqlTickets(Repository):
    async def add(self, ticket: Ticket) -> Ticket:
        row = await self._insert(TICKET.new_row(ticket, updated_at=_updated_at(ticket)))
        ticket.id = row.id
        await self._add_events(ticket)
        return ticket

    async def get(self, ticket_id: int) -> Ticket | None:
        row = await self.session.get(TicketRow, ticket_id)
        if row is None:
            return None
        return (await self._tickets([row]))[0]

    async def save(self, ticket: Ticket) -> None:
        row = await self._stored(TicketRow, ticket.id)
        TICKET.fill(row, ticket, updated_at=_updated_at(ticket))
        await self._add_events(ticket)

    async def find(
        self,
        *,
        official_id: int | None = None,
        assignee_id: int | None = None,
        statuses: Sequence[TicketStatus] | None = None,
        limit: int = 50,
    ) -> list[Ticket]:
        query = select(TicketRow).order_by(TicketRow.id.desc()).limit(limit)
        if official_id is not None:
            query = query.where(TicketRow.official_id == official_id)
        if assignee_id is not None:
            query = query.where(TicketRow.assignee_id == assignee_id)
        if statuses is not None:
            query = query.where(TicketRow.status.in_([s.value for s in statuses]))
        return await self._tickets(list(await self.session.scalars(query)))

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(TicketRow.status, func.count()).group_by(TicketRow.status)
        )
        return dict(rows.all())

    async def changed_since(self, at: datetime) -> list[Ticket]:
        query = select(TicketRow).where(TicketRow.updated_at >= at).order_by(TicketRow.id)
        return await self._tickets(list(await self.session.scalars(query)))

    async def _tickets(self, rows: Sequence[TicketRow]) -> list[Ticket]:
        events = await self._children(
            TicketEventRow.ticket_id,
            [row.id for row in rows],
            TicketEventRow.id,
            TicketEventRow,
            EVENT.to_domain,
        )
        return [TICKET.to_domain(row, events=events[row.id]) for row in rows]

    async def _add_events(self, ticket: Ticket) -> None:
        # The history is append-only: each new event is inserted (a plain INSERT: nothing
        # reads its row back in this unit of work) and given its id, so that it is not
        # added twice.
        for index, event in enumerate(ticket.events):
            if event.id is None:
                event_id = await self._insert_values(
                    TicketEventRow, EVENT.values(event, ticket_id=ticket.id)
                )
                ticket.events[index] = dataclasses.replace(event, id=event_id)
