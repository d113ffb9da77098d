"""Questions in a chat: the answer with its buttons, the suggestions to pick from, or
word that an expert has the question; and the buttons under them."""

from helpdesk.domain.actions import (
    Connect,
    EscalateQuestion,
    GiveFeedback,
    PickSuggestion,
    parse,
)
from helpdesk.domain.knowledge import Entry
from helpdesk.domain.languages import closest_languages
from helpdesk.domain.questions import AskedQuestion, Feedback
from helpdesk.i18n import (
    DEFAULT_LANGUAGE,
    Button,
    LanguageName,
    Msg,
    Place,
    Quote,
    QuoteStyle,
    Reply,
    Text,
)
from helpdesk.services.asking import ask, escalate_question, give_feedback, pick_suggestion
from helpdesk.services.chat.resources import Resources
from helpdesk.services.commands import Command
from helpdesk.services.input import check_question
from helpdesk.services.refusals import Refused
from helpdesk.services.turn import Turn

__all__ = ["answer_reply", "on_ask", "on_escalate", "on_feedback", "on_pick", "on_question"]


async def on_question(turn: Turn, resources: Resources, text: str) -> None:
    """A message that is a question: an answer, suggestions, or a ticket."""
    try:
        asked = await ask(turn.context, resources.knowledge, turn.sender, text, turn.language)
    except Refused as refused:
        await turn.refuse(refused)
        return
    if asked.entry is not None:
        await turn.reply(answer_reply(asked.question, asked.entry, turn.language))
    elif asked.suggested:
        titles = {
            c.entry_id: _title(resources.knowledge.entry(c.entry_id), c.title, turn.language)
            for c in asked.suggested
        }
        await turn.reply(_suggestions(asked.question, titles))
    else:
        assert asked.ticket is not None
        assigned = asked.ticket.assignee_id is not None
        key = Msg.ESCALATE_ASSIGNED if assigned else Msg.ESCALATE_QUEUED
        await turn.reply(Reply.say(key, ticket=asked.ticket.id or 0))


async def on_ask(turn: Turn, command: Command, resources: Resources) -> None:
    """``/ask TEXT``: straight to an expert, whatever the knowledge base holds."""
    if not command.args:
        await turn.reply(Reply.say(Msg.ASK_USAGE))
        return
    problem = check_question(command.args, command.args, resources.limits)
    if problem is not None:
        await turn.reply(problem)
        return
    try:
        asked = await ask(
            turn.context,
            resources.knowledge,
            turn.sender,
            command.args,
            turn.language,
            to_expert=True,
        )
    except Refused as refused:
        await turn.refuse(refused)
        return
    assert asked.ticket is not None
    key = Msg.ASK_ASSIGNED if asked.ticket.assignee_id is not None else Msg.ASK_QUEUED
    await turn.reply(Reply.say(key, ticket=asked.ticket.id or 0))


async def on_pick(turn: Turn, command: Command, resources: Resources) -> None:
    action = parse(command.line)
    if not isinstance(action, PickSuggestion):
        await turn.reply(Reply.say(Msg.CHOICE_EXPIRED))
        return
    try:
        question, entry = await pick_suggestion(
            turn.context, resources.knowledge, turn.sender, action.question, action.index
        )
    except Refused as refused:
        await turn.refuse(refused)
        return
    await turn.reply(answer_reply(question, entry, turn.language))


async def on_feedback(turn: Turn, command: Command, resources: Resources) -> None:
    action = parse(command.line)
    if not isinstance(action, GiveFeedback):
        await turn.reply(Reply.say(Msg.CHOICE_EXPIRED))
        return
    try:
        await give_feedback(turn.context, turn.sender, action.question, action.feedback)
    except Refused as refused:
        await turn.refuse(refused)
        return
    if action.feedback is Feedback.HELPFUL:
        await turn.reply(Reply.say(Msg.FEEDBACK_HELPFUL))
        return
    await turn.reply(
        Reply(
            (Text(Msg.FEEDBACK_NOT_HELPFUL),),
            buttons=(Button(Text(Msg.BUTTON_ASK_EXPERT), EscalateQuestion(action.question)),),
        )
    )


async def on_escalate(turn: Turn, command: Command, resources: Resources) -> None:
    action = parse(command.line)
    if not isinstance(action, EscalateQuestion):
        await turn.reply(Reply.say(Msg.CHOICE_EXPIRED))
        return
    try:
        ticket = await escalate_question(
            turn.context, resources.knowledge, turn.sender, action.question
        )
    except Refused as refused:
        await turn.refuse(refused)
        return
    key = Msg.ASK_ASSIGNED if ticket.assignee_id is not None else Msg.ASK_QUEUED
    await turn.reply(Reply.say(key, ticket=ticket.id or 0))


def answer_reply(question: AskedQuestion, entry: Entry, language: str | None) -> Reply:
    """The entry in the reader's language when it has it; otherwise in the closest one it
    has (Bosnian for a reader of Montenegrin), or its own, saying which."""
    assert question.id is not None
    qid = question.id
    shown = entry.in_language(closest_languages(language or DEFAULT_LANGUAGE))
    parts: list[Text | Quote] = [
        Quote(shown.title, QuoteStyle.TITLE),
        Quote(shown.body, QuoteStyle.MARKDOWN),
    ]
    if shown.lang != (language or DEFAULT_LANGUAGE):
        parts.append(Text(Msg.ANSWER_OTHER_LANGUAGE, {"language": LanguageName(shown.lang)}))
    if entry.city or entry.country:
        parts.append(Text(Msg.ANSWER_PRACTICE_OF, {"place": Place(entry.city, entry.country)}))
    if entry.source:
        parts.append(Text(Msg.ANSWER_SOURCE, {"source": entry.source}))
    parts.append(Text(Msg.ANSWER_DID_IT_HELP))
    buttons = [
        Button(Text(Msg.BUTTON_HELPFUL), GiveFeedback(qid, Feedback.HELPFUL)),
        Button(Text(Msg.BUTTON_NOT_HELPFUL), GiveFeedback(qid, Feedback.NOT_HELPFUL)),
        Button(Text(Msg.BUTTON_ASK_EXPERT), EscalateQuestion(qid)),
    ]
    if entry.city:  # a city's practice: peer exchange with that city
        buttons.append(Button(Text(Msg.BUTTON_CONNECT, {"city": entry.city}), Connect(qid)))
    return Reply(tuple(parts), buttons=tuple(buttons))


def _title(entry: Entry | None, fallback: str, language: str | None) -> str:
    """An entry's title as the reader reads it."""
    if entry is None:
        return fallback
    return entry.in_language(closest_languages(language or DEFAULT_LANGUAGE)).title


def _suggestions(question: AskedQuestion, titles: dict[str, str]) -> Reply:
    assert question.id is not None
    qid = question.id
    return Reply(
        (Text(Msg.SUGGEST_INTRO),),
        buttons=(
            *(
                Button(
                    Quote(titles.get(c.entry_id, c.title), QuoteStyle.TITLE), PickSuggestion(qid, i)
                )
                for i, c in enumerate(question.suggested, start=1)
            ),
            Button(Text(Msg.BUTTON_NONE_OF_THESE), EscalateQuestion(qid)),
        ),
    )
