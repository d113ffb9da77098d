"""``/web``: a one-time link to the web console, for staff (everything) and experts
(their own tickets)."""

from helpdesk.domain.web_access import LINK_VALID_FOR
from helpdesk.i18n import Msg, Reply
from helpdesk.services.chat.resources import Resources
from helpdesk.services.commands import Command
from helpdesk.services.refusals import Refused
from helpdesk.services.turn import Turn
from helpdesk.services.web_access import issue_link, sign_in_url

__all__ = ["on_web"]


async def on_web(turn: Turn, command: Command, resources: Resources) -> None:
    if resources.web_url is None:
        await turn.reply(Reply.say(Msg.WEB_OFF))
        return
    try:
        token = await issue_link(turn.context, turn.sender)
    except Refused as refused:
        await turn.refuse(refused)
        return
    minutes = int(LINK_VALID_FOR.total_seconds() // 60)
    await turn.reply(
        Reply.say(Msg.WEB_LINK, link=sign_in_url(resources.web_url, token), minutes=minutes)
    )
