"""The queue, a ticket, and what staff and experts do with one: answer, assign, cancel,
promote. Experts see only the tickets routed to them (``/mine``)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from aiohttp import web

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.people import Person
from helpdesk.domain.schedule import ScheduledAction, describe_duration
from helpdesk.domain.tickets import Ticket, TicketEventKind, TicketStatus
from helpdesk.i18n import Msg
from helpdesk.matching.normalize import normalize_text
from helpdesk.services.audit import actor, record
from helpdesk.services.curation import promote_ticket
from helpdesk.services.ports import UnitOfWork
from helpdesk.services.refusals import Refused
from helpdesk.services.tickets import (
    STATUS_TEXT,
    answer_ticket,
    assign_by_staff,
    can_view,
    cancel_ticket,
)
from helpdesk.web.app import (
    CONSOLE_KEY,
    Page,
    bad_request,
    flash_redirect,
    render,
    signed_person,
    staff_only,
)

__all__ = ["QUEUE_VIEWS", "add_routes", "queue_row"]

_LIMIT = 500  # tickets read for the queue; filters apply to them
_SHOWN = 200
_WAITING = (TicketStatus.OPEN, TicketStatus.DECLINED)
QUEUE_VIEWS: dict[str, tuple[TicketStatus, ...]] = {
    "attention": tuple(s for s in TicketStatus if s.is_active),
    "waiting": _WAITING,
    "assigned": (TicketStatus.ASSIGNED,),
    "overdue": (TicketStatus.ASSIGNED,),
    "reopened": (TicketStatus.REOPENED,),
    "answered": (TicketStatus.ANSWERED,),
    "closed": (TicketStatus.CLOSED,),
    "cancelled": (TicketStatus.CANCELLED,),
    "all": tuple(TicketStatus),
}


@dataclass(frozen=True)
class QueueRow:
    ticket: Ticket
    official: Person | None
    assignee: Person | None
    age: str
    overdue: bool
    next_action: ScheduledAction | None
    status_key: str


def _number(ticket: Ticket) -> int:
    assert ticket.id is not None
    return ticket.id


def queue_row(
    ticket: Ticket,
    people: dict[int, Person],
    now: datetime,
    remind_after: Any,
    pending: list[ScheduledAction],
) -> QueueRow:
    """One line of the queue: who, how old, whether late, and what happens next."""
    assigned_at = ticket.last_assigned_at
    overdue = (
        ticket.status is TicketStatus.ASSIGNED
        and assigned_at is not None
        and now - assigned_at > remind_after
    )
    return QueueRow(
        ticket=ticket,
        official=people.get(ticket.official_id),
        assignee=people.get(ticket.assignee_id) if ticket.assignee_id is not None else None,
        age=describe_duration(now - ticket.created_at),
        overdue=overdue,
        next_action=pending[0] if pending else None,
        status_key=STATUS_TEXT[ticket.status].value,
    )


async def _people(uow: UnitOfWork) -> dict[int, Person]:
    return {p.id: p for p in await uow.people.all() if p.id is not None}


@staff_only
async def queue(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    query = request.query
    view = query.get("status", "attention")
    if view not in QUEUE_VIEWS:
        view = "attention"
    search = normalize_text(query.get("q", "").strip())
    topic, language = query.get("topic", ""), query.get("language", "")
    expert, city = query.get("expert", ""), query.get("city", "").strip().casefold()
    rating = query.get("rating", "")
    try:
        week = date.fromisoformat(query.get("week", ""))
    except ValueError:
        week = None
    async with console.uow() as uow:
        now = console.clock()
        tickets = await uow.tickets.find(statuses=list(QUEUE_VIEWS[view]), limit=_LIMIT)
        people = await _people(uow)
        rows = []
        for ticket in tickets:
            official = people.get(ticket.official_id)
            if search and search not in normalize_text(ticket.text):
                continue
            if topic and topic not in ticket.topics:
                continue
            if language and ticket.language != language:
                continue
            if expert and str(ticket.assignee_id) != expert:
                continue
            if city and (official is None or (official.city or "").casefold() != city):
                continue
            if rating and (ticket.rating is None or ticket.rating.value != rating):
                continue
            if week and not week <= ticket.created_at.date() < week + timedelta(days=7):
                continue
            pending = await uow.schedule.pending(ticket_id=ticket.id)
            row = queue_row(ticket, people, now, console.timings.remind_after, pending)
            if view == "overdue" and not row.overdue:
                continue
            rows.append(row)
            if len(rows) >= _SHOWN:
                break
        experts = [p for p in people.values() if p.is_expert]
        topics = sorted({t for ticket in tickets for t in ticket.topics})
        languages = sorted({ticket.language for ticket in tickets if ticket.language})
        cities = sorted({p.city for p in people.values() if p.city and not p.is_staff})
    return render(
        request,
        Page(
            "queue.html",
            {
                "rows": rows,
                "views": list(QUEUE_VIEWS),
                "view": view,
                "filters": dict(query),
                "experts": experts,
                "topics": topics,
                "languages": languages,
                "cities": cities,
            },
        ),
    )


async def _ticket_page(request: web.Request, number: int, *, preview: str = "") -> Page | None:
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    async with console.uow() as uow:
        ticket = await uow.tickets.get(number)
        if ticket is None or not can_view(me, ticket):
            return None
        people = await _people(uow)
        for event in ticket.events:
            for someone in (event.actor_id, event.expert_id):
                if someone is not None and someone not in people:
                    found = await uow.people.get(someone)
                    if found is not None:
                        people[someone] = found
        question = await uow.questions.get(ticket.question_id) if ticket.question_id else None
        pending = await uow.schedule.pending(ticket_id=number)
        loads = await uow.people.expert_loads() if me.is_staff else []
        now = console.clock()
    routing = next(
        (
            e.detail
            for e in reversed(ticket.events)
            if e.kind
            in (TicketEventKind.ASSIGNED, TicketEventKind.REASSIGNED, TicketEventKind.RELEASED)
            and e.detail
        ),
        "",
    )
    official = people.get(ticket.official_id)
    return Page(
        "ticket.html",
        {
            "ticket": ticket,
            "row": queue_row(ticket, people, now, console.timings.remind_after, pending),
            "official": official if me.is_staff else None,
            "people": people,
            "question": question,
            "routing": routing,
            "pending": pending,
            "loads": sorted(loads, key=lambda load: (load.open_tickets, load.expert.name)),
            "preview": preview,
            "can_answer": ticket.status is TicketStatus.ASSIGNED
            or (me.is_staff and ticket.is_waiting),
            "can_cancel": me.is_staff and ticket.status.is_active,
            "can_promote": me.is_staff
            and ticket.status in (TicketStatus.ANSWERED, TicketStatus.CLOSED),
            "base": "/tickets" if me.is_staff else "/mine",
        },
    )


def _ticket_number(request: web.Request) -> int:
    try:
        return int(request.match_info["number"])
    except ValueError:
        raise web.HTTPNotFound() from None


async def ticket(request: web.Request) -> web.StreamResponse:
    page = await _ticket_page(request, _ticket_number(request))
    if page is None:
        return render(request, Page("not_found.html", {}, 404))
    return render(request, page)


async def answer(request: web.Request) -> web.StreamResponse:
    """Staff or the ticket's expert answer; "preview" shows the answer as the official
    will read it, without sending."""
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    number = _ticket_number(request)
    form = await request.post()
    text = str(form.get("text", "")).strip()
    base = "/tickets" if me.is_staff else "/mine"
    if form.get("preview") is not None:
        page = await _ticket_page(request, number, preview=text)
        if page is None:
            return render(request, Page("not_found.html", {}, 404))
        return render(request, page)
    if not text:
        return bad_request(request, Refused(Msg.WEB_EMPTY_ANSWER), 400)
    async with console.uow() as uow:
        ctx = console.context(uow)
        await answer_ticket(ctx, number, me, text)
        if me.is_staff:
            await record(uow, ctx.now, actor(me), AuditAction.ANSWER, f"ticket:{number}")
        await uow.commit()
    console.wake()
    raise flash_redirect(request, f"{base}/{number}", Msg.WEB_FLASH_ANSWERED)


@staff_only
async def assign(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    number = _ticket_number(request)
    form = await request.post()
    try:
        expert_id = int(str(form.get("expert", "")))
    except ValueError:
        return bad_request(request, Refused(Msg.ASSIGN_NOT_EXPERT, person="?"), 400)
    async with console.uow() as uow:
        await assign_by_staff(console.context(uow), number, expert_id, actor(me))
        await uow.commit()
    console.wake()
    raise flash_redirect(request, f"/tickets/{number}", Msg.WEB_FLASH_ASSIGNED)


@staff_only
async def cancel(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    number = _ticket_number(request)
    async with console.uow() as uow:
        ctx = console.context(uow)
        await cancel_ticket(ctx, number, me)
        await record(uow, ctx.now, actor(me), AuditAction.CANCEL, f"ticket:{number}")
        await uow.commit()
    console.wake()
    raise flash_redirect(request, f"/tickets/{number}", Msg.WEB_FLASH_CANCELLED)


@staff_only
async def promote(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    number = _ticket_number(request)
    async with console.uow() as uow:
        entry = await promote_ticket(uow, number, actor(me), console.clock())
        await uow.commit()
    raise flash_redirect(request, f"/kb/{entry.id}", Msg.WEB_FLASH_PROMOTED)


async def mine(request: web.Request) -> web.StreamResponse:
    """An expert's own tickets: routed to them, or answered by them."""
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    async with console.uow() as uow:
        now = console.clock()
        routed = await uow.tickets.find(assignee_id=me.id, limit=100)
        people = await _people(uow)
        rows = [
            queue_row(
                t,
                people,
                now,
                console.timings.remind_after,
                await uow.schedule.pending(ticket_id=t.id),
            )
            for t in routed
            if can_view(me, t)
        ]
    return render(request, Page("mine.html", {"rows": rows}))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/queue", queue)
    app.router.add_get("/tickets/{number}", staff_only(ticket))
    app.router.add_post("/tickets/{number}/answer", staff_only(answer))
    app.router.add_post("/tickets/{number}/assign", assign)
    app.router.add_post("/tickets/{number}/cancel", cancel)
    app.router.add_post("/tickets/{number}/promote", promote)
    app.router.add_get("/mine", mine)
    app.router.add_get("/mine/{number}", ticket)
    app.router.add_post("/mine/{number}/answer", answer)
