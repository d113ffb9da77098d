"""Asking: a question is matched, then answered, offered as suggestions, or escalated."""

from helpdesk.domain.knowledge import Entry
from helpdesk.domain.languages import closest_languages
from helpdesk.domain.questions import Action, AskedQuestion, Feedback, Match
from helpdesk.i18n import (
    DEFAULT_LANGUAGE,
    Button,
    LanguageName,
    Msg,
    Quote,
    QuoteStyle,
    Reply,
    Text,
)
from helpdesk.matching import MatchPolicy, has_content, suggestions
from helpdesk.services.curation import WEAK_MATCH, propose_phrasing
from helpdesk.services.knowledge import KnowledgeIndex
from helpdesk.services.metrics import count_question
from helpdesk.services.tickets import open_ticket
from helpdesk.services.turn import Turn

__all__ = ["ask_expert", "ask_question", "escalate_question", "give_feedback", "pick_suggestion"]


async def ask_question(turn: Turn, knowledge: KnowledgeIndex, text: str) -> None:
    """Match the question and reply with an answer, suggestions, or a ticket."""
    recorded = await _record(turn, knowledge, text)
    if recorded is None:
        return
    question, match, policy = recorded
    best = knowledge.entry(match.best.entry_id) if match.best else None
    if match.action is Action.ANSWER and best is not None:
        question.entry_id = best.id
        await turn.uow.questions.save(question)
        await turn.reply(_answer(question, best, turn.language))
        return
    offered = suggestions(match.candidates, policy)
    if match.action is Action.SUGGEST and offered:
        question.suggested = offered
        await turn.uow.questions.save(question)
        await turn.reply(_suggestions(question))
        return
    await _escalate(turn, knowledge, question, match, Msg.ESCALATE_ASSIGNED, Msg.ESCALATE_QUEUED)


async def ask_expert(turn: Turn, knowledge: KnowledgeIndex, text: str) -> None:
    """``/ask TEXT``: straight to an expert, whatever the knowledge base holds.

    The question is still matched: its candidates tell routing what it is about.
    """
    recorded = await _record(turn, knowledge, text, action=Action.ESCALATE)
    if recorded is not None:
        question, match, _ = recorded
        await _escalate(turn, knowledge, question, match, Msg.ASK_ASSIGNED, Msg.ASK_QUEUED)


async def _record(
    turn: Turn, knowledge: KnowledgeIndex, text: str, action: Action | None = None
) -> tuple[AskedQuestion, Match, MatchPolicy] | None:
    """Match a question and keep it with what was found; None (and a reply) for small talk."""
    if not has_content(text):
        await turn.reply(Reply.say(Msg.INPUT_NOT_A_QUESTION))
        return None
    match = await knowledge.match(text)
    question = await turn.uow.questions.add(
        AskedQuestion(
            person_id=turn.sender_id,
            text=text,
            normalized=match.normalized,
            action=action or match.action,
            candidates=match.candidates,
            language=turn.language,
            created_at=turn.now,
        )
    )
    count_question(question.action.value)
    return question, match, knowledge.current.policy


async def _escalate(
    turn: Turn,
    knowledge: KnowledgeIndex,
    question: AskedQuestion,
    match: Match,
    assigned: Msg,
    queued: Msg,
) -> None:
    ticket = await open_ticket(
        turn,
        question.text,
        language=question.language,
        topics=knowledge.topics_of(match),
        question=question,
    )
    key = assigned if ticket.assignee_id is not None else queued
    await turn.reply(Reply.say(key, ticket=ticket.id or 0))


async def _own_question(turn: Turn, question_id: int) -> AskedQuestion | None:
    question = await turn.uow.questions.get(question_id)
    if question is None or question.person_id != turn.sender_id:
        await turn.reply(Reply.say(Msg.CHOICE_EXPIRED))
        return None
    return question


async def pick_suggestion(
    turn: Turn, knowledge: KnowledgeIndex, question_id: int, index: int
) -> None:
    """The official picked one of the suggestions: show that entry."""
    question = await _own_question(turn, question_id)
    if question is None:
        return
    if not 1 <= index <= len(question.suggested):
        await turn.reply(Reply.say(Msg.CHOICE_EXPIRED))
        return
    entry = knowledge.entry(question.suggested[index - 1].entry_id)
    if entry is None:  # retired since it was offered
        await turn.reply(Reply.say(Msg.CHOICE_EXPIRED))
        return
    question.pick(index)
    await turn.uow.questions.save(question)
    # Found through a suggestion: the official's words may be a phrasing the entry lacks.
    await propose_phrasing(turn.uow, question, entry, turn.now)
    await turn.reply(_answer(question, entry, turn.language))


async def give_feedback(turn: Turn, question_id: int, feedback: Feedback) -> None:
    question = await _own_question(turn, question_id)
    if question is None:
        return
    if question.entry_id is None:
        await turn.reply(Reply.say(Msg.CHOICE_EXPIRED))
        return
    question.give_feedback(feedback)
    await turn.uow.questions.save(question)
    weak = not question.candidates or question.candidates[0].score < WEAK_MATCH
    if feedback is Feedback.HELPFUL and question.action is Action.ANSWER and weak:
        entry = await turn.uow.entries.get(question.entry_id)
        if entry is not None:
            await propose_phrasing(turn.uow, question, entry, turn.now)
    if feedback is Feedback.HELPFUL:
        await turn.reply(Reply.say(Msg.FEEDBACK_HELPFUL))
    else:
        await turn.reply(
            Reply(
                (Text(Msg.FEEDBACK_NOT_HELPFUL),),
                buttons=(Button(Text(Msg.BUTTON_ASK_EXPERT), f"/escalate {question_id}"),),
            )
        )


async def escalate_question(turn: Turn, knowledge: KnowledgeIndex, question_id: int) -> None:
    """ "Ask an expert" after an answer or suggestions."""
    question = await _own_question(turn, question_id)
    if question is None:
        return
    if question.ticket_id is not None:
        await turn.reply(Reply.say(Msg.ALREADY_ESCALATED, ticket=question.ticket_id))
        return
    match = await knowledge.match(question.text)
    await _escalate(turn, knowledge, question, match, Msg.ASK_ASSIGNED, Msg.ASK_QUEUED)


def _answer(question: AskedQuestion, entry: Entry, language: str | None) -> Reply:
    """The entry in the reader's language when it has it; otherwise in the closest one it
    has (Bosnian for a reader of Montenegrin), or its own, saying which."""
    qid = question.id
    shown = entry.in_language(closest_languages(language or DEFAULT_LANGUAGE))
    parts: list[Text | Quote] = [
        Quote(shown.title, QuoteStyle.TITLE),
        Quote(shown.body, QuoteStyle.MARKDOWN),
    ]
    if shown.lang != (language or DEFAULT_LANGUAGE):
        parts.append(Text(Msg.ANSWER_OTHER_LANGUAGE, {"language": LanguageName(shown.lang)}))
    place = ", ".join(p for p in (entry.city, entry.country) if p)
    if place:
        parts.append(Text(Msg.ANSWER_PRACTICE_OF, {"place": place}))
    if entry.source:
        parts.append(Text(Msg.ANSWER_SOURCE, {"source": entry.source}))
    parts.append(Text(Msg.ANSWER_DID_IT_HELP))
    buttons = [
        Button(Text(Msg.BUTTON_HELPFUL), f"/feedback {qid} helpful"),
        Button(Text(Msg.BUTTON_NOT_HELPFUL), f"/feedback {qid} not_helpful"),
        Button(Text(Msg.BUTTON_ASK_EXPERT), f"/escalate {qid}"),
    ]
    if entry.city:  # a city's practice: peer exchange with that city
        buttons.append(Button(Text(Msg.BUTTON_CONNECT, {"city": entry.city}), f"/connect {qid}"))
    return Reply(tuple(parts), buttons=tuple(buttons))


def _suggestions(question: AskedQuestion) -> Reply:
    qid = question.id
    return Reply(
        (Text(Msg.SUGGEST_INTRO),),
        buttons=(
            *(
                Button(Quote(c.title, QuoteStyle.TITLE), f"/pick {qid} {i}")
                for i, c in enumerate(question.suggested, start=1)
            ),
            Button(Text(Msg.BUTTON_NONE_OF_THESE), f"/escalate {qid}"),
        ),
    )
