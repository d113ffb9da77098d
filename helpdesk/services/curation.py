"""Staff curate the knowledge base, and use feeds it: the peer-learning loop.

An expert's answer becomes a draft entry (the official's name and city taken out, the
expert credited); staff publish it, and it is written back under ``knowledge/`` so the
base stays reviewable in version control. Every change keeps a version that can be
restored. Questions that found their entry only through a suggestion, or after a weak
match, are proposed as new phrasings of it; staff accept or reject each one. Nothing
changes the base without a member of staff.
"""

import dataclasses
from datetime import datetime

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.curation import (
    Proposal,
    ProposalStatus,
    credit,
    credit_line,
    scrub,
    slug,
    with_phrasing,
)
from helpdesk.domain.knowledge import Entry, EntryStatus
from helpdesk.domain.limits import MAX_PHRASINGS
from helpdesk.domain.questions import AskedQuestion
from helpdesk.domain.text import preview
from helpdesk.domain.tickets import TicketStatus
from helpdesk.i18n import Msg
from helpdesk.matching.normalize import normalize_text
from helpdesk.services.audit import record
from helpdesk.services.ports import EntryWriter, UnitOfWork
from helpdesk.services.refusals import Refused

__all__ = [
    "WEAK_MATCH",
    "add_phrasing",
    "decide_proposal",
    "promote_ticket",
    "propose_phrasing",
    "publish_entry",
    "restore_version",
    "retire_entry",
    "save_entry",
]

_TITLE_LENGTH = 90
WEAK_MATCH = 85.0  # an answer scored below this that helped teaches the matcher something


def _title(question: str) -> str:
    return preview(question, _TITLE_LENGTH)


async def promote_ticket(uow: UnitOfWork, number: int, author: str, now: datetime) -> Entry:
    """A draft entry from an answered ticket: its question and its answer, without the
    official's name or city, crediting the expert."""
    ticket = await uow.tickets.get(number)
    if ticket is None:
        raise Refused(Msg.CURATE_NO_TICKET, ticket=number)
    if ticket.status not in (TicketStatus.ANSWERED, TicketStatus.CLOSED) or not ticket.answer:
        raise Refused(Msg.CURATE_NOT_ANSWERED, ticket=number)
    official = await uow.people.get(ticket.official_id)
    expert = await uow.people.get(ticket.answered_by) if ticket.answered_by else None
    private = (official.name, official.city) if official else ()
    question = scrub(ticket.text, *private)
    answer = scrub(ticket.answer, *private)
    credited = credit(expert.name, expert.city, expert.country) if expert else ""
    entry_id = f"ticket-{number}-{slug(question, 40)}"
    entry = Entry(
        id=entry_id,
        title=_title(question),
        questions=(question,),
        body=answer + (f"\n\n{credit_line(credited)}" if credited else ""),
        topics=ticket.topics,
        lang=ticket.language or "en",
        source=f"Expert answer to helpdesk ticket #{number}"
        + (f" ({credited})" if credited else ""),
        status=EntryStatus.DRAFT,
    )
    existing = await uow.entries.get(entry_id)
    if existing is not None:
        raise Refused(Msg.CURATE_ALREADY_PROMOTED, ticket=number, entry=entry_id)
    await uow.entries.upsert(entry, now, author=author)
    await record(uow, now, author, AuditAction.PROMOTE, f"entry:{entry_id}", f"ticket #{number}")
    return entry


def _write(write: EntryWriter | None, entry: Entry) -> None:
    """Write the entry's file before the database changes: if the folder cannot be
    written, staff are told why and nothing changes."""
    if write is None:
        return
    try:
        write(entry)
    except OSError as error:
        raise Refused(
            Msg.CURATE_FILE_FAILED, entry=entry.id, reason=error.strerror or type(error).__name__
        ) from None


def _room_for_a_phrasing(entry: Entry) -> None:
    if len(entry.questions) >= MAX_PHRASINGS:
        raise Refused(Msg.CURATE_TOO_MANY_PHRASINGS, entry=entry.id, limit=MAX_PHRASINGS)


async def _entry(uow: UnitOfWork, entry_id: str) -> Entry:
    entry = await uow.entries.get(entry_id)
    if entry is None:
        raise Refused(Msg.CURATE_NO_ENTRY, entry=entry_id)
    return entry


async def publish_entry(
    uow: UnitOfWork, entry_id: str, author: str, now: datetime, write: EntryWriter | None
) -> Entry:
    return await _set_status(uow, entry_id, EntryStatus.PUBLISHED, author, now, write)


async def retire_entry(
    uow: UnitOfWork, entry_id: str, author: str, now: datetime, write: EntryWriter | None
) -> Entry:
    """No longer answers; its file is kept, marked retired, so an import keeps it so."""
    return await _set_status(uow, entry_id, EntryStatus.RETIRED, author, now, write)


async def _set_status(
    uow: UnitOfWork,
    entry_id: str,
    status: EntryStatus,
    author: str,
    now: datetime,
    write: EntryWriter | None,
) -> Entry:
    entry = await _entry(uow, entry_id)
    if entry.status is status:
        raise Refused(Msg.CURATE_ALREADY, entry=entry_id, status=status.value)
    changed = dataclasses.replace(entry, status=status)
    _write(write, changed)
    await uow.entries.upsert(changed, now, author=author)
    action = AuditAction.PUBLISH if status is EntryStatus.PUBLISHED else AuditAction.RETIRE
    await record(uow, now, author, action, f"entry:{entry_id}")
    return changed


async def save_entry(
    uow: UnitOfWork, entry: Entry, author: str, now: datetime, write: EntryWriter | None
) -> Entry:
    """An entry as staff wrote it in the editor, new or changed, with the status it is
    given. Its file is written when it is not a draft, or when it had one already (so
    that the file never disagrees with the database); the change is a new version."""
    current = await uow.entries.get(entry.id)
    had_file = current is not None and current.status is not EntryStatus.DRAFT
    if had_file or entry.status is not EntryStatus.DRAFT:
        _write(write, entry)
    await uow.entries.upsert(entry, now, author=author)
    if current is None or current.status is not entry.status:
        action = {
            EntryStatus.PUBLISHED: AuditAction.PUBLISH,
            EntryStatus.RETIRED: AuditAction.RETIRE,
            EntryStatus.DRAFT: AuditAction.EDIT,
        }[entry.status]
    else:
        action = AuditAction.EDIT
    await record(uow, now, author, action, f"entry:{entry.id}", entry.status.value)
    return entry


async def restore_version(
    uow: UnitOfWork,
    entry_id: str,
    version: int,
    author: str,
    now: datetime,
    write: EntryWriter | None,
    status: EntryStatus | None = None,
) -> Entry:
    """The entry as it was in ``version``, its status included unless ``status`` says
    otherwise; callers say which status it has now. The restoring is itself a new
    version, and the entry's file follows it (a file already written is rewritten even
    for a draft, so that it never disagrees with the database)."""
    history = await uow.entries.history(entry_id)
    chosen = next((v for v in history if v.version == version), None)
    if chosen is None:
        raise Refused(Msg.CURATE_NO_VERSION, entry=entry_id, version=version)
    current = await uow.entries.get(entry_id)
    restored = dataclasses.replace(chosen.entry, status=status or chosen.entry.status)
    had_file = current is not None and current.status is not EntryStatus.DRAFT
    if had_file or restored.status is not EntryStatus.DRAFT:
        _write(write, restored)
    await uow.entries.upsert(restored, now, author=f"{author} (restored v{version})")
    await record(
        uow, now, author, AuditAction.RESTORE, f"entry:{entry_id}", f"v{version}, {restored.status}"
    )
    return restored


async def add_phrasing(
    uow: UnitOfWork, entry_id: str, text: str, author: str, now: datetime, write: EntryWriter | None
) -> Entry:
    """Staff add a way of asking, typically the same question in another language: the
    multilingual model alone does not carry a new entry across languages reliably."""
    entry = await _entry(uow, entry_id)
    wanted = normalize_text(text)
    if not wanted:
        raise Refused(Msg.CURATE_USAGE)
    if any(normalize_text(q) == wanted for q in entry.questions):
        return entry
    _room_for_a_phrasing(entry)
    changed = with_phrasing(entry, " ".join(text.split()))
    if changed.status is EntryStatus.PUBLISHED:
        _write(write, changed)
    await uow.entries.upsert(changed, now, author=author)
    await record(uow, now, author, AuditAction.PHRASE, f"entry:{entry_id}")
    return changed


async def propose_phrasing(
    uow: UnitOfWork, question: AskedQuestion, entry: Entry, now: datetime
) -> Proposal | None:
    """The official's words as a new way to ask for ``entry``, unless it has them already
    or they are proposed already."""
    wanted = normalize_text(question.text)
    if any(normalize_text(q) == wanted for q in entry.questions):
        return None
    for pending in await uow.proposals.find(status=ProposalStatus.PENDING, entry_id=entry.id):
        if normalize_text(pending.text) == wanted:
            return None
    return await uow.proposals.add(
        Proposal(
            entry_id=entry.id,
            text=question.text,
            created_at=now,
            language=question.language,
            question_id=question.id,
        )
    )


async def decide_proposal(
    uow: UnitOfWork,
    proposal_id: int,
    accept: bool,
    author: str,
    now: datetime,
    write: EntryWriter | None,
) -> Proposal:
    proposal = await uow.proposals.get(proposal_id)
    if proposal is None or proposal.status is not ProposalStatus.PENDING:
        raise Refused(Msg.CURATE_NO_PROPOSAL, proposal=proposal_id)
    if accept:
        entry = await _entry(uow, proposal.entry_id)
        _room_for_a_phrasing(entry)
        changed = with_phrasing(entry, proposal.text)
        if changed.status is EntryStatus.PUBLISHED:
            _write(write, changed)
        await uow.entries.upsert(changed, now, author=f"{author} (proposal {proposal_id})")
    proposal.status = ProposalStatus.ACCEPTED if accept else ProposalStatus.REJECTED
    proposal.decided_by = author
    proposal.decided_at = now
    await uow.proposals.save(proposal)
    await record(
        uow,
        now,
        author,
        AuditAction.ACCEPT if accept else AuditAction.REJECT,
        f"proposal:{proposal_id}",
        f"entry:{proposal.entry_id}",
    )
    return proposal
