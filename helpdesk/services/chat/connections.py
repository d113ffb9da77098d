"""Peer exchange in a chat: ``/connect Q``, the button under an answer drawn from a
city's practice."""

from helpdesk.domain.actions import Connect, parse
from helpdesk.i18n import Msg, Reply
from helpdesk.services.chat.resources import Resources
from helpdesk.services.commands import Command
from helpdesk.services.connections import request_connection
from helpdesk.services.refusals import Refused
from helpdesk.services.turn import Turn

__all__ = ["on_connect"]


async def on_connect(turn: Turn, command: Command, resources: Resources) -> None:
    action = parse(command.line)
    if not isinstance(action, Connect):
        await turn.reply(Reply.say(Msg.CHOICE_EXPIRED))
        return
    try:
        request = await request_connection(turn.context, turn.sender, action.question)
    except Refused as refused:
        await turn.refuse(refused)
        return
    await turn.reply(Reply.say(Msg.CONNECT_REQUESTED, city=request.to_city))
