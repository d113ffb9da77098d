"""Staff commands in chat: curation (/promote, /publish, /retire, /proposals, /accept,
/reject) and /stats. The conversation service lets only staff reach them."""

from datetime import timedelta

from helpdesk.domain.curation import ProposalStatus
from helpdesk.domain.knowledge import Entry
from helpdesk.domain.languages import SUPPORTED_LANGUAGES
from helpdesk.domain.schedule import describe_duration
from helpdesk.i18n import Button, Msg, Quote, Reply, Text
from helpdesk.services.audit import actor
from helpdesk.services.commands import parse_number
from helpdesk.services.curation import (
    CurationError,
    add_phrasing,
    decide_proposal,
    promote_ticket,
    publish_entry,
    retire_entry,
)
from helpdesk.services.ports import EntryWriter
from helpdesk.services.reports import summarise
from helpdesk.services.turn import Turn

__all__ = ["decide", "list_proposals", "phrase", "promote", "publish", "retire", "stats"]

_STATS_WINDOW = timedelta(days=90)
_PROPOSALS_SHOWN = 10


async def _refused(turn: Turn, error: CurationError) -> None:
    await turn.reply(Reply.say(error.key, **error.params))


async def promote(turn: Turn, args: str) -> None:
    number = parse_number(args) if args else None
    if number is None:
        await turn.reply(Reply.say(Msg.CURATE_USAGE))
        return
    try:
        entry = await promote_ticket(turn.uow, number, actor(turn.sender), turn.now)
    except CurationError as error:
        await _refused(turn, error)
        return
    await turn.reply(
        Reply(
            (
                Text(Msg.CURATE_PROMOTED, {"entry": entry.id, "ticket": number}),
                *_missing_languages(entry),
            ),
            buttons=(Button(Quote(f"/publish {entry.id}"), f"/publish {entry.id}"),),
        )
    )


async def publish(turn: Turn, args: str, write: EntryWriter | None) -> None:
    if not args.strip():
        await turn.reply(Reply.say(Msg.CURATE_USAGE))
        return
    try:
        entry = await publish_entry(turn.uow, args.strip(), actor(turn.sender), turn.now, write)
    except CurationError as error:
        await _refused(turn, error)
        return
    await turn.reply(
        Reply((Text(Msg.CURATE_PUBLISHED, {"entry": entry.id}), *_missing_languages(entry)))
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


async def retire(turn: Turn, args: str, write: EntryWriter | None) -> None:
    if not args.strip():
        await turn.reply(Reply.say(Msg.CURATE_USAGE))
        return
    try:
        entry = await retire_entry(turn.uow, args.strip(), actor(turn.sender), turn.now, write)
    except CurationError as error:
        await _refused(turn, error)
        return
    await turn.reply(Reply.say(Msg.CURATE_RETIRED, entry=entry.id))


async def phrase(turn: Turn, args: str, write: EntryWriter | None) -> None:
    """``/phrase ID TEXT``: one more way of asking for an entry."""
    parts = args.split(None, 1)
    if len(parts) != 2:
        await turn.reply(Reply.say(Msg.PHRASE_USAGE))
        return
    try:
        entry = await add_phrasing(
            turn.uow, parts[0], parts[1], actor(turn.sender), turn.now, write
        )
    except CurationError as error:
        await _refused(turn, error)
        return
    await turn.reply(Reply.say(Msg.PHRASE_ADDED, entry=entry.id, count=len(entry.questions)))


async def list_proposals(turn: Turn) -> None:
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
        button
        for p in shown[:4]  # keyboards stay small; the rest are typed: /accept N
        for button in (
            Button(Text(Msg.BUTTON_ACCEPT, {"proposal": p.id or 0}), f"/accept {p.id}"),
            Button(Text(Msg.BUTTON_REJECT, {"proposal": p.id or 0}), f"/reject {p.id}"),
        )
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


async def decide(turn: Turn, args: str, accept: bool, write: EntryWriter | None) -> None:
    number = parse_number(args) if args else None
    if number is None:
        await turn.reply(Reply.say(Msg.CURATE_USAGE))
        return
    try:
        proposal = await decide_proposal(
            turn.uow, number, accept, actor(turn.sender), turn.now, write
        )
    except CurationError as error:
        await _refused(turn, error)
        return
    key = Msg.PROPOSAL_ACCEPTED if accept else Msg.PROPOSAL_REJECTED
    await turn.reply(Reply.say(key, proposal=number, entry=proposal.entry_id))


async def stats(turn: Turn) -> None:
    since = turn.now - _STATS_WINDOW
    questions = await turn.uow.questions.since(since)
    tickets = await turn.uow.tickets.changed_since(since)
    people = {p.id: p for p in await turn.uow.people.all() if p.id is not None}
    summary = summarise(questions, tickets, people, since)
    none = Text(Msg.DIGEST_NONE)
    await turn.reply(
        Reply.say(
            Msg.STATS,
            since=f"{since:%Y-%m-%d}",
            questions=summary.questions,
            answered=summary.percent(summary.answered),
            suggested=summary.percent(summary.suggested),
            escalated=summary.percent(summary.escalated),
            median=describe_duration(summary.median_first_answer)
            if summary.median_first_answer
            else none,
            helpful=summary.helpful,
            not_helpful=summary.not_helpful,
            score=f"{summary.mean_score:.1f}" if summary.mean_score is not None else none,
            languages=", ".join(f"{k} {v}" for k, v in summary.by_language.items()) or "–",
            countries=", ".join(f"{k} {v}" for k, v in summary.by_country.items()) or "–",
        )
    )
