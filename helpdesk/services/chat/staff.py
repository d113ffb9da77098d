"""Staff in a chat: curation (/promote, /publish, /retire, /phrase, /proposals, /accept,
/reject), peer exchange (/introduce) and /stats. The conversation lets only staff reach
them."""

from datetime import timedelta

from helpdesk.domain.actions import DecideProposal, PublishEntry, parse
from helpdesk.domain.curation import ProposalStatus
from helpdesk.domain.knowledge import Entry
from helpdesk.domain.languages import SUPPORTED_LANGUAGES
from helpdesk.domain.schedule import describe_duration
from helpdesk.i18n import Button, Msg, Quote, Reply, Text
from helpdesk.services.audit import actor
from helpdesk.services.chat.resources import Resources
from helpdesk.services.commands import Command, parse_number
from helpdesk.services.connections import introduce
from helpdesk.services.curation import (
    add_phrasing,
    decide_proposal,
    promote_ticket,
    publish_entry,
    retire_entry,
)
from helpdesk.services.input import too_long
from helpdesk.services.notices import place_of
from helpdesk.services.refusals import Refused
from helpdesk.services.reports import summarise
from helpdesk.services.turn import Turn

__all__ = [
    "on_decide",
    "on_introduce",
    "on_phrase",
    "on_promote",
    "on_proposals",
    "on_publish",
    "on_retire",
    "on_stats",
]

_STATS_WINDOW = timedelta(days=90)
_PROPOSALS_SHOWN = 10
_PROPOSAL_BUTTONS = 4  # keyboards stay small; the rest are typed: /accept N


async def on_promote(turn: Turn, command: Command, resources: Resources) -> None:
    number = parse_number(command.args)
    if number is None:
        await turn.reply(Reply.say(Msg.CURATE_USAGE))
        return
    try:
        entry = await promote_ticket(turn.uow, number, actor(turn.sender), turn.now)
    except Refused as refused:
        await turn.refuse(refused)
        return
    await turn.reply(
        Reply(
            (
                Text(Msg.CURATE_PROMOTED, {"entry": entry.id, "ticket": number}),
                *_missing_languages(entry),
            ),
            buttons=(Button(Quote(f"/publish {entry.id}"), PublishEntry(entry.id)),),
        )
    )


async def on_publish(turn: Turn, command: Command, resources: Resources) -> None:
    action = parse(command.line)
    if not isinstance(action, PublishEntry):
        await turn.reply(Reply.say(Msg.CURATE_USAGE))
        return
    try:
        entry = await publish_entry(
            turn.uow, action.entry, actor(turn.sender), turn.now, resources.write_entry
        )
    except Refused as refused:
        await turn.refuse(refused)
        return
    await turn.reply(
        Reply((Text(Msg.CURATE_PUBLISHED, {"entry": entry.id}), *_missing_languages(entry)))
    )


async def on_retire(turn: Turn, command: Command, resources: Resources) -> None:
    entry_id = command.args.strip()
    if not entry_id:
        await turn.reply(Reply.say(Msg.CURATE_USAGE))
        return
    try:
        entry = await retire_entry(
            turn.uow, entry_id, actor(turn.sender), turn.now, resources.write_entry
        )
    except Refused as refused:
        await turn.refuse(refused)
        return
    await turn.reply(Reply.say(Msg.CURATE_RETIRED, entry=entry.id))


async def on_phrase(turn: Turn, command: Command, resources: Resources) -> None:
    """``/phrase ID TEXT``: one more way of asking for an entry."""
    parts = command.split(2)
    if len(parts) != 2:
        await turn.reply(Reply.say(Msg.PHRASE_USAGE))
        return
    if len(parts[1]) > resources.limits.max_phrasing:
        await turn.reply(too_long(parts[1], resources.limits.max_phrasing))
        return
    try:
        entry = await add_phrasing(
            turn.uow, parts[0], parts[1], actor(turn.sender), turn.now, resources.write_entry
        )
    except Refused as refused:
        await turn.refuse(refused)
        return
    await turn.reply(Reply.say(Msg.PHRASE_ADDED, entry=entry.id, count=len(entry.questions)))


async def on_proposals(turn: Turn, command: Command, resources: Resources) -> None:
    pending = await turn.uow.proposals.find(status=ProposalStatus.PENDING)
    if not pending:
        await turn.reply(Reply.say(Msg.PROPOSALS_NONE))
        return
    shown = pending[:_PROPOSALS_SHOWN]
    lines = tuple(
        Text(
            Msg.PROPOSALS_LINE, {"proposal": p.id or 0, "entry": p.entry_id, "text": Quote(p.text)}
        )
        for p in shown
    )
    buttons = tuple(
        Button(Text(key, {"proposal": p.id}), DecideProposal(p.id, accept))
        for p in shown[:_PROPOSAL_BUTTONS]
        if p.id is not None
        for key, accept in ((Msg.BUTTON_ACCEPT, True), (Msg.BUTTON_REJECT, False))
    )
    askers = []
    for p in shown:
        question = await turn.uow.questions.get(p.question_id) if p.question_id else None
        if question is not None and question.person_id is not None:
            askers.append(question.person_id)
    await turn.reply(
        Reply(
            (Text(Msg.PROPOSALS_HEAD, {"count": len(pending)}), *lines),
            buttons=buttons,
            mentions=tuple(dict.fromkeys(askers)),
        )
    )


async def on_decide(turn: Turn, command: Command, resources: Resources) -> None:
    """``/accept N`` or ``/reject N``."""
    action = parse(command.line)
    if not isinstance(action, DecideProposal):
        await turn.reply(Reply.say(Msg.CURATE_USAGE))
        return
    try:
        proposal = await decide_proposal(
            turn.uow,
            action.proposal,
            action.accept,
            actor(turn.sender),
            turn.now,
            resources.write_entry,
        )
    except Refused as refused:
        await turn.refuse(refused)
        return
    key = Msg.PROPOSAL_ACCEPTED if action.accept else Msg.PROPOSAL_REJECTED
    await turn.reply(Reply.say(key, proposal=action.proposal, entry=proposal.entry_id))


async def on_introduce(turn: Turn, command: Command, resources: Resources) -> None:
    """``/introduce N CONTACT``: the other city agreed; its contact goes to the official,
    and the official's details to staff."""
    parts = command.split(2)
    number = parse_number(parts[0]) if parts else None
    if number is None or len(parts) != 2:
        await turn.reply(Reply.say(Msg.INTRODUCE_USAGE))
        return
    if len(parts[1]) > resources.limits.max_contact:
        await turn.reply(too_long(parts[1], resources.limits.max_contact))
        return
    try:
        done = await introduce(turn.context, number, parts[1], actor(turn.sender))
    except Refused as refused:
        await turn.refuse(refused)
        return
    official = done.official
    assert official.id is not None
    details = Text(
        Msg.INTRODUCE_DONE,
        {
            "request": number,
            "city": done.request.to_city,
            "name": official.name,
            "place": place_of(official),
            "reach": done.reach,
        },
    )
    await turn.reply(Reply((details,), mentions=(official.id,)))


async def on_stats(turn: Turn, command: Command, resources: Resources) -> None:
    since = turn.now - _STATS_WINDOW
    questions = await turn.uow.questions.since(since)
    tickets = await turn.uow.tickets.changed_since(since)
    people = {p.id: p for p in await turn.uow.people.all() if p.id is not None}
    summary = summarise(questions, tickets, people, since)
    none = Text(Msg.DIGEST_NONE)
    median = summary.median_first_answer
    await turn.reply(
        Reply.say(
            Msg.STATS,
            since=f"{since:%Y-%m-%d}",
            questions=summary.questions,
            answered=summary.percent(summary.answered),
            suggested=summary.percent(summary.suggested),
            escalated=summary.percent(summary.escalated),
            median=describe_duration(median) if median else none,
            helpful=summary.helpful,
            not_helpful=summary.not_helpful,
            score=f"{summary.mean_score:.1f}" if summary.mean_score is not None else none,
            languages=", ".join(f"{k} {v}" for k, v in summary.by_language.items()) or "–",
            countries=", ".join(f"{k} {v}" for k, v in summary.by_country.items()) or "–",
        )
    )


def _missing_languages(entry: Entry) -> tuple[Text, ...]:
    """Which of the bot's languages an entry is not written in yet: officials asking in
    them read it in the closest one it has, with a note."""
    missing = [code for code in SUPPORTED_LANGUAGES if code not in entry.languages]
    if not missing:
        return ()
    return (
        Text(
            Msg.CURATE_MISSING_LANGUAGES,
            {"entry": entry.id, "languages": ", ".join(missing), "count": len(missing)},
        ),
    )
