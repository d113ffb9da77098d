"""Peer exchange: an official asks to talk with the city whose practice answered them.

Staff are told, naming both cities; they ask the other city. Nothing is shared until
that city agrees: then staff introduce them with the city's contact, the official
receives it, and staff get the official's details to pass on. The official agreed by
asking."""

from dataclasses import dataclass

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.curation import ConnectionRequest, ConnectionStatus
from helpdesk.domain.people import Person
from helpdesk.i18n import Msg, Quote, Reply, Text
from helpdesk.services.audit import record
from helpdesk.services.context import Context
from helpdesk.services.messenger import notify, notify_staff
from helpdesk.services.notices import place_of
from helpdesk.services.refusals import Refused

__all__ = ["Introduction", "introduce", "request_connection"]


async def request_connection(ctx: Context, official: Person, question_id: int) -> ConnectionRequest:
    """The official asks to meet the city whose practice answered ``question_id``; staff
    are told (the city asked, not yet who asks)."""
    question = await ctx.uow.questions.get(question_id)
    entry = await ctx.uow.entries.get(question.entry_id) if question and question.entry_id else None
    if question is None or question.person_id != official.id or entry is None or not entry.city:
        raise Refused(Msg.CHOICE_EXPIRED)
    assert official.id is not None
    request = await ctx.uow.connections.add(
        ConnectionRequest(
            official_id=official.id,
            entry_id=entry.id,
            to_city=entry.city,
            created_at=ctx.now,
            question_id=question.id,
        )
    )
    told = Text(
        Msg.CONNECT_STAFF,
        {
            "request": request.id or 0,
            "place": place_of(official),
            "city": entry.city,
            "title": Quote(entry.title),
        },
    )
    await notify_staff(ctx.uow, Reply((told,), mentions=(official.id,)), ctx.now)
    return request


@dataclass(frozen=True)
class Introduction:
    """A request the other city agreed to: the official, and where staff reach them."""

    request: ConnectionRequest
    official: Person
    reach: str


async def introduce(ctx: Context, number: int, contact: str, who: str) -> Introduction:
    """The other city agreed: its contact goes to the official; the official's details
    are returned for staff to pass on. Audited."""
    request = await ctx.uow.connections.get(number)
    if request is None or request.status is not ConnectionStatus.REQUESTED:
        raise Refused(Msg.INTRODUCE_UNKNOWN, request=number)
    official = await ctx.uow.people.get(request.official_id)
    entry = await ctx.uow.entries.get(request.entry_id)
    if official is None or official.id is None:
        raise Refused(Msg.INTRODUCE_UNKNOWN, request=number)
    request.status = ConnectionStatus.INTRODUCED
    await ctx.uow.connections.save(request)
    await record(
        ctx.uow,
        ctx.now,
        who,
        AuditAction.INTRODUCE,
        f"connection:{number}",
        f"person:{request.official_id} to {request.to_city}",
    )
    title = entry.title if entry else request.entry_id
    agreed = Reply.say(
        Msg.CONNECT_AGREED, city=request.to_city, title=Quote(title), contact=Quote(contact)
    )
    await notify(ctx.uow, official, agreed, ctx.now)
    identity = await ctx.uow.people.reachable_at(official.id)
    reach = f"{identity.platform}: {identity.address}" if identity else "-"
    return Introduction(request, official, reach)
