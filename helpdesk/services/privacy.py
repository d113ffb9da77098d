"""A person's rights over their data: erasure (/forget in chat, ``helpdesk person erase``),
export (``helpdesk person export``), and the retention period for question texts."""

import logging
from datetime import datetime, timedelta
from typing import Any

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.curation import ERASED_CREDIT, credit, credit_line
from helpdesk.domain.knowledge import EntryStatus
from helpdesk.domain.people import Person
from helpdesk.domain.privacy import ERASED, Redaction
from helpdesk.services.audit import actor, record
from helpdesk.services.ports import Clock, EntryWriter, UnitOfWork, UnitOfWorkFactory

__all__ = ["AlreadyErased", "apply_retention", "erase_person", "export_person"]

log = logging.getLogger(__name__)


class AlreadyErased(Exception):
    """The person asked to be forgotten already: there is nothing left to erase."""


async def erase_person(
    uow: UnitOfWork,
    person_id: int,
    who: str,
    now: datetime,
    write: EntryWriter | None = None,
) -> dict[str, int] | None:
    """Erase one person's data and record who did it. None if there is no such person;
    ``AlreadyErased`` if it was done before. Entries that named them (an expert credited
    under an answer) are written back to their files without the name."""
    person = await uow.people.get(person_id)
    if person is None:
        return None
    if person.erased_at is not None:
        raise AlreadyErased(f"person #{person_id} was erased on {person.erased_at:%Y-%m-%d}")
    redaction = _redaction(person)
    erasure = await uow.personal_data.erase(person_id, now, redaction)
    # Signed in to the web console: not any more.
    await uow.web_access.end_all(person_id, now)
    summary = ", ".join(f"{name} {count}" for name, count in sorted(erasure.counts.items()))
    # People who erase themselves are not named in the record of it either.
    await record(uow, now, redaction.text(who), AuditAction.ERASE, f"person:{person_id}", summary)
    if write is not None:
        for entry_id in erasure.entries:
            entry = await uow.entries.get(entry_id)
            if entry is not None and entry.status is not EntryStatus.DRAFT:
                write(entry)
    return erasure.counts


def _redaction(person: Person) -> Redaction:
    """Where the person is named in texts others keep: as the one who acted ("Ana (#3)"),
    credited under an answer, by name, by chat address."""
    credited = credit(person.name, person.city, person.country)
    return Redaction.of(
        [
            (actor(person), f"{ERASED} (#{person.id})"),
            (credit_line(credited), ERASED_CREDIT),
            (f" ({credited})", ""),
            (person.name, ERASED),
            *((identity.address, ERASED) for identity in person.identities),
        ],
        anchors=[credited, actor(person)],
    )


async def export_person(
    uow: UnitOfWork, person_id: int, who: str, now: datetime
) -> dict[str, Any] | None:
    data = await uow.personal_data.export(person_id)
    if data is not None:
        await record(uow, now, who, AuditAction.EXPORT, f"person:{person_id}")
    return data


async def apply_retention(uow_factory: UnitOfWorkFactory, clock: Clock, keep: timedelta) -> int:
    """Blank question texts older than ``keep``. Returns how many were blanked."""
    async with uow_factory() as uow:
        blanked = await uow.personal_data.purge_texts(clock() - keep)
        await uow.commit()
    if blanked:
        log.info("retention: blanked %d question texts older than %s", blanked, keep)
    return blanked
