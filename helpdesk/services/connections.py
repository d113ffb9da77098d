"""Peer exchange: an official asks to talk with the city whose practice answered them.

Staff are told, naming both cities; they ask the other city. Nothing is shared until
that city agrees: then staff send ``/introduce N`` with the city's contact, the official
receives it, and staff get the official's details to pass on. The official agreed by
asking.
"""

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.curation import ConnectionRequest, ConnectionStatus
from helpdesk.i18n import Msg, Quote, Reply, Text
from helpdesk.services.audit import actor, record
from helpdesk.services.commands import parse_number
from helpdesk.services.tickets import place_of
from helpdesk.services.turn import Turn

__all__ = ["introduce", "request_connection"]


async def request_connection(turn: Turn, args: str) -> None:
    """``/connect Q``: the button under an answer drawn from a city's practice."""
    number = parse_number(args) if args else None
    question = await turn.uow.questions.get(number) if number is not None else None
    entry = (
        await turn.uow.entries.get(question.entry_id) if question and question.entry_id else None
    )
    if question is None or question.person_id != turn.sender_id or entry is None or not entry.city:
        await turn.reply(Reply.say(Msg.CHOICE_EXPIRED))
        return
    request = await turn.uow.connections.add(
        ConnectionRequest(
            official_id=turn.sender_id,
            entry_id=entry.id,
            to_city=entry.city,
            created_at=turn.now,
            question_id=question.id,
        )
    )
    official = turn.sender
    await turn.notify_staff(
        Reply(
            (
                Text(
                    Msg.CONNECT_STAFF,
                    {
                        "request": request.id or 0,
                        "place": place_of(official),
                        "city": entry.city,
                        "title": Quote(entry.title),
                    },
                ),
            ),
            mentions=(turn.sender_id,),
        )
    )
    await turn.reply(Reply.say(Msg.CONNECT_REQUESTED, city=entry.city))


async def introduce(turn: Turn, args: str) -> None:
    """``/introduce N CONTACT``: the other city agreed; its contact goes to the official,
    and the official's details to staff."""
    parts = args.split(None, 1)
    number = parse_number(parts[0]) if parts else None
    if number is None or len(parts) != 2:
        await turn.reply(Reply.say(Msg.INTRODUCE_USAGE))
        return
    request = await turn.uow.connections.get(number)
    if request is None or request.status is not ConnectionStatus.REQUESTED:
        await turn.reply(Reply.say(Msg.INTRODUCE_UNKNOWN, request=number))
        return
    official = await turn.uow.people.get(request.official_id)
    entry = await turn.uow.entries.get(request.entry_id)
    if official is None:
        await turn.reply(Reply.say(Msg.INTRODUCE_UNKNOWN, request=number))
        return
    request.status = ConnectionStatus.INTRODUCED
    await turn.uow.connections.save(request)
    await record(
        turn.uow,
        turn.now,
        actor(turn.sender),
        AuditAction.INTRODUCE,
        f"connection:{number}",
        f"person:{request.official_id} to {request.to_city}",
    )
    title = entry.title if entry else request.entry_id
    await turn.notify(
        official,
        Reply.say(
            Msg.CONNECT_AGREED, city=request.to_city, title=Quote(title), contact=Quote(parts[1])
        ),
    )
    identity = await turn.uow.people.reachable_at(official.id or 0)
    reach = f"{identity.platform}: {identity.address}" if identity else "-"
    await turn.reply(
        Reply(
            (
                Text(
                    Msg.INTRODUCE_DONE,
                    {
                        "request": number,
                        "city": request.to_city,
                        "name": official.name,
                        "place": place_of(official),
                        "reach": reach,
                    },
                ),
            ),
            mentions=(request.official_id,),
        )
    )
