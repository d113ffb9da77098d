"""What people change about themselves (the language the bot writes to them in, and,
for experts, when they are away), and what staff change about them (their role)."""

from datetime import UTC, date, datetime, time, timedelta

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.languages import SUPPORTED_LANGUAGES, normalize_language_code
from helpdesk.domain.people import Person, Role
from helpdesk.domain.schedule import parse_duration, zone
from helpdesk.i18n import Msg
from helpdesk.services.audit import record
from helpdesk.services.context import Context
from helpdesk.services.refusals import Refused

__all__ = ["change_role", "choose_language", "come_back", "set_away"]


async def choose_language(ctx: Context, person: Person, wanted: str) -> str:
    """The language the bot writes to ``person`` in from now on, whatever they write in."""
    code = normalize_language_code(wanted)
    by_lower = {c.lower(): c for c in SUPPORTED_LANGUAGES}
    chosen = by_lower.get(code.lower()) if code else None
    if chosen is None:
        raise Refused(Msg.LANGUAGE_BAD, code=wanted[:20], codes=", ".join(SUPPORTED_LANGUAGES))
    person.ui_language = chosen
    await ctx.uow.people.save(person)
    return chosen


async def set_away(ctx: Context, person: Person, until: str) -> datetime:
    """``2026-12-01`` (back that morning, their time) or ``10d``: no new tickets until
    then. Returns when they are back."""
    text = until.strip()
    back: datetime | None = None
    try:
        day = date.fromisoformat(text)
        back = datetime.combine(day, time(8, 0), tzinfo=zone(person.timezone)).astimezone(UTC)
    except (ValueError, OverflowError):
        try:
            span = parse_duration(text)
        except ValueError:
            span = timedelta()
        if span > timedelta():
            try:
                back = ctx.now + span
            except OverflowError:
                back = None
    if back is None or back <= ctx.now:
        raise Refused(Msg.AWAY_USAGE)
    person.away_until = back
    await ctx.uow.people.save(person)
    return back


async def come_back(ctx: Context, person: Person) -> None:
    """Available for new tickets again."""
    person.away_until = None
    await ctx.uow.people.save(person)


async def change_role(ctx: Context, person_id: int, role: Role, who: str) -> Role | None:
    """Make person ``person_id`` an official, an expert or staff, recorded as done by
    ``who``. Returns the role they had; None if there is no such person (or they were
    erased)."""
    person = await ctx.uow.people.get(person_id)
    if person is None or person.erased_at is not None:
        return None
    before = person.role
    person.role = role
    await ctx.uow.people.save(person)
    await record(
        ctx.uow,
        ctx.now,
        who,
        AuditAction.ROLE,
        f"person:{person_id}",
        f"{before.value} → {role.value}",
    )
    return before
