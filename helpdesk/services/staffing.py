"""What staff change about the people of the hub: invitations (created, revoked) and an
expert's languages, topics, capacity and availability. Audited, for every entry point."""

from datetime import datetime, timedelta

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.invites import Invite
from helpdesk.domain.languages import normalize_language_code
from helpdesk.domain.limits import MAX_NAME_LENGTH, MAX_PLACE_LENGTH
from helpdesk.domain.people import Person, Role
from helpdesk.i18n import Msg
from helpdesk.services.audit import record
from helpdesk.services.context import Context
from helpdesk.services.invitations import CreatedInvite, create_invite
from helpdesk.services.refusals import Refused

__all__ = ["invite_from_form", "language_codes", "revoke_invite", "update_expert"]

_MAX_CAPACITY = 100


def language_codes(text: str) -> tuple[str, ...]:
    """Comma-separated codes, each checked and written the one way (``sr-Latn``)."""
    codes = []
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        code = normalize_language_code(raw)
        if code is None:
            raise Refused(Msg.WEB_BAD_LANGUAGE, code=raw[:20])
        codes.append(code)
    return tuple(dict.fromkeys(codes))


def _topics(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


def _clip(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    if len(value) > limit:
        raise Refused(Msg.WEB_TOO_LONG, limit=limit)
    return value or None


async def invite_from_form(
    ctx: Context,
    who: str,
    role: Role,
    valid_for: timedelta,
    *,
    name: str | None = None,
    city: str | None = None,
    country: str | None = None,
    languages: str = "",
    topics: str = "",
    capacity: int = 3,
) -> CreatedInvite:
    """An invitation from the fields a form was given, checked and cut to their limits,
    made as every invitation is (``invitations.create_invite``); its code is returned once."""
    if not 1 <= capacity <= _MAX_CAPACITY:
        raise Refused(Msg.WEB_BAD_CAPACITY, limit=_MAX_CAPACITY)
    return await create_invite(
        ctx,
        who,
        role,
        valid_for,
        name=_clip(name, MAX_NAME_LENGTH),
        city=_clip(city, MAX_PLACE_LENGTH),
        country=_clip(country, MAX_PLACE_LENGTH),
        languages=language_codes(languages),
        topics=_topics(topics),
        capacity=capacity,
    )


async def revoke_invite(ctx: Context, invite_id: int, who: str) -> Invite:
    """An unused invitation stops working now."""
    invite = await ctx.uow.invites.get(invite_id)
    if invite is None or not invite.is_valid(ctx.now):
        raise Refused(Msg.WEB_NO_INVITE, invite=invite_id)
    invite.expires_at = ctx.now
    await ctx.uow.invites.save(invite)
    await record(ctx.uow, ctx.now, who, AuditAction.REVOKE, f"invite:{invite_id}")
    return invite


async def update_expert(
    ctx: Context,
    person_id: int,
    who: str,
    *,
    languages: str,
    topics: str,
    capacity: int,
    away_until: datetime | None,
) -> Person:
    """Staff set what an expert covers, how much they take, and until when they are away."""
    person = await ctx.uow.people.get(person_id)
    if person is None or person.erased_at is not None or not person.is_expert:
        raise Refused(Msg.ASSIGN_NOT_EXPERT, person=person_id)
    if not 1 <= capacity <= _MAX_CAPACITY:
        raise Refused(Msg.WEB_BAD_CAPACITY, limit=_MAX_CAPACITY)
    before = (person.languages, person.topics, person.capacity, person.away_until)
    person.languages = language_codes(languages)
    person.topics = _topics(topics)
    person.capacity = capacity
    person.away_until = away_until if away_until is not None and away_until > ctx.now else None
    if (person.languages, person.topics, person.capacity, person.away_until) == before:
        return person
    await ctx.uow.people.save(person)
    detail = (
        f"languages {','.join(person.languages)}; topics {','.join(person.topics)}; "
        f"capacity {person.capacity}; away until "
        + (f"{person.away_until:%Y-%m-%d}" if person.away_until else "-")
    )
    await record(ctx.uow, ctx.now, who, AuditAction.PERSON, f"person:{person_id}", detail)
    return person
