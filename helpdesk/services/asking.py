"""Asking: a question is matched, then answered from the knowledge base, offered as
suggestions, or passed to an expert; and what the official does next with an answer
(pick a suggestion, say whether it helped, ask an expert after all). Use cases: plain
arguments in, what happened out; the chat shows it (services/chat/asking.py)."""

from dataclasses import dataclass

from helpdesk.domain.knowledge import Entry
from helpdesk.domain.people import Person
from helpdesk.domain.questions import Action, AskedQuestion, Candidate, Feedback, Match
from helpdesk.domain.tickets import Ticket
from helpdesk.i18n import Msg
from helpdesk.matching import has_content, suggestions
from helpdesk.services.context import Context
from helpdesk.services.curation import WEAK_MATCH, propose_phrasing
from helpdesk.services.knowledge import KnowledgeIndex
from helpdesk.services.metrics import count_question
from helpdesk.services.refusals import Refused
from helpdesk.services.tickets import open_ticket

__all__ = ["Asked", "ask", "escalate_question", "give_feedback", "pick_suggestion"]


@dataclass(frozen=True)
class Asked:
    """What became of a question: answered with ``entry``, offered ``suggested``, or
    passed to an expert as ``ticket``."""

    question: AskedQuestion
    match: Match
    entry: Entry | None = None
    suggested: tuple[Candidate, ...] = ()
    ticket: Ticket | None = None


async def ask(
    ctx: Context,
    knowledge: KnowledgeIndex,
    person: Person,
    text: str,
    language: str | None,
    *,
    to_expert: bool = False,
) -> Asked:
    """Match the question and keep it with what was found; answer it, offer
    suggestions, or open a ticket. ``to_expert`` (``/ask``): a ticket whatever the base
    holds; the match still tells routing what the question is about."""
    if not has_content(text):
        raise Refused(Msg.INPUT_NOT_A_QUESTION)
    match = await knowledge.match(text)
    # Decided before the question is stored, so that it is written once.
    best = knowledge.entry(match.best.entry_id) if match.best and not to_expert else None
    answer = best if match.action is Action.ANSWER else None
    offered = (
        suggestions(match.candidates, knowledge.current.policy)
        if match.action is Action.SUGGEST and not to_expert
        else ()
    )
    question = await ctx.uow.questions.add(
        AskedQuestion(
            person_id=person.id,
            text=text,
            normalized=match.normalized,
            action=Action.ESCALATE if to_expert else match.action,
            candidates=match.candidates,
            language=language,
            created_at=ctx.now,
            entry_id=answer.id if answer is not None else None,
            suggested=offered,
        )
    )
    count_question(question.action.value)
    if answer is not None:
        return Asked(question, match, entry=answer)
    if offered:
        return Asked(question, match, suggested=offered)
    ticket = await _escalate(ctx, knowledge, person, question, match)
    return Asked(question, match, ticket=ticket)


async def _escalate(
    ctx: Context, knowledge: KnowledgeIndex, person: Person, question: AskedQuestion, match: Match
) -> Ticket:
    return await open_ticket(
        ctx,
        person,
        question.text,
        language=question.language,
        topics=knowledge.topics_of(match),
        question=question,
    )


async def _own_question(ctx: Context, person: Person, question_id: int) -> AskedQuestion:
    question = await ctx.uow.questions.get(question_id)
    if question is None or question.person_id != person.id:
        raise Refused(Msg.CHOICE_EXPIRED)
    return question


async def pick_suggestion(
    ctx: Context, knowledge: KnowledgeIndex, person: Person, question_id: int, index: int
) -> tuple[AskedQuestion, Entry]:
    """The official picked one of the suggestions: that entry."""
    question = await _own_question(ctx, person, question_id)
    if not 1 <= index <= len(question.suggested):
        raise Refused(Msg.CHOICE_EXPIRED)
    entry = knowledge.entry(question.suggested[index - 1].entry_id)
    if entry is None:  # retired since it was offered
        raise Refused(Msg.CHOICE_EXPIRED)
    question.pick(index)
    await ctx.uow.questions.save(question)
    # Found through a suggestion: the official's words may be a phrasing the entry lacks.
    await propose_phrasing(ctx.uow, question, entry, ctx.now)
    return question, entry


async def give_feedback(
    ctx: Context, person: Person, question_id: int, feedback: Feedback
) -> AskedQuestion:
    """Helpful or not, about an answer from the base; a helpful answer to a weak match
    proposes the question as a new phrasing of the entry."""
    question = await _own_question(ctx, person, question_id)
    if question.entry_id is None:
        raise Refused(Msg.CHOICE_EXPIRED)
    question.give_feedback(feedback)
    await ctx.uow.questions.save(question)
    weak = not question.candidates or question.candidates[0].score < WEAK_MATCH
    if feedback is Feedback.HELPFUL and question.action is Action.ANSWER and weak:
        entry = await ctx.uow.entries.get(question.entry_id)
        if entry is not None:
            await propose_phrasing(ctx.uow, question, entry, ctx.now)
    return question


async def escalate_question(
    ctx: Context, knowledge: KnowledgeIndex, person: Person, question_id: int
) -> Ticket:
    """ "Ask an expert" after an answer or suggestions."""
    question = await _own_question(ctx, person, question_id)
    if question.ticket_id is not None:
        raise Refused(Msg.ALREADY_ESCALATED, ticket=question.ticket_id)
    match = await knowledge.match(question.text)
    return await _escalate(ctx, knowledge, person, question, match)
