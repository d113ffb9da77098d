"""A person's rights over their data: /forget in chat, ``helpdesk person erase`` and
``helpdesk person export`` for staff, and the retention period for question texts."""

import logging
from datetime import datetime, timedelta
from typing import Any

from helpdesk.domain.audit import AuditAction
from helpdesk.i18n import Button, Msg, Reply, Text
from helpdesk.services.audit import actor, record
from helpdesk.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from helpdesk.services.turn import Turn

__all__ = ["apply_retention", "erase_person", "export_person", "forget"]

log = logging.getLogger(__name__)

_CONFIRM = "yes"


async def forget(turn: Turn, args: str) -> None:
    """/forget asks first (it cannot be undone); /forget yes erases."""
    if args.strip().lower() != _CONFIRM:
        await turn.reply(
            Reply(
                (Text(Msg.FORGET_CONFIRM),),
                buttons=(Button(Text(Msg.BUTTON_FORGET), f"/forget {_CONFIRM}"),),
            )
        )
        return
    await erase_person(turn.uow, turn.sender_id, actor(turn.sender), turn.now)
    # Queued after the erasure, which drops every message to the person: the goodbye
    # goes to the address they wrote from, and says nothing about them.
    await turn.reply(Reply.say(Msg.FORGET_DONE))


async def erase_person(
    uow: UnitOfWork, person_id: int, who: str, now: datetime
) -> dict[str, int] | None:
    """Erase one person's data and record who did it. None if there is no such person."""
    person = await uow.people.get(person_id)
    if person is None:
        return None
    counts = await uow.personal_data.erase(person_id, now)
    summary = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    await record(uow, now, who, AuditAction.ERASE, f"person:{person_id}", summary)
    return counts


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
