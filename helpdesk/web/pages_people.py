"""People: experts (editable) with their load, officials, invitations (with the deep link
and a QR code for events), requests to connect two cities, and the audit log."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import segno
from aiohttp import web
from markupsafe import Markup

from helpdesk.domain.audit import AuditAction
from helpdesk.domain.people import Role
from helpdesk.domain.schedule import zone
from helpdesk.i18n import Msg
from helpdesk.services.audit import actor
from helpdesk.services.connections import introduce
from helpdesk.services.refusals import Refused
from helpdesk.services.staffing import invite_from_form, revoke_invite, update_expert
from helpdesk.web.app import (
    CONSOLE_KEY,
    Page,
    bad_request,
    flash_redirect,
    render,
    signed_person,
    staff_only,
)

__all__ = ["add_routes", "qr_svg"]

_AUDIT_SHOWN = 200
_MAX_CONTACT = 500


def qr_svg(text: str) -> Markup:
    """A QR code as inline SVG (no script, no external file): scanned at an event, it
    opens the invitation."""
    code = segno.make(text, error="m")
    svg = code.svg_inline(scale=4, dark="#111", light="#fff", border=2, omitsize=False)
    return Markup(svg)  # safe: segno's own markup; the text is encoded, not embedded


def _form_text(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


@staff_only
async def people(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    async with console.uow() as uow:
        loads = await uow.people.expert_loads()
        everyone = await uow.people.all()
        invites = await uow.invites.recent(50)
        connections = await uow.connections.recent(50)
    by_id = {p.id: p for p in everyone}
    loaded = {load.expert.id: load for load in loads}
    experts = [(p, loaded.get(p.id)) for p in everyone if p.role is Role.EXPERT]
    return render(
        request,
        Page(
            "people.html",
            {
                "experts": experts,
                "officials": [p for p in everyone if p.role is Role.OFFICIAL],
                "staff": [p for p in everyone if p.role is Role.STAFF],
                "invites": invites,
                "connections": [(c, by_id.get(c.official_id)) for c in connections],
                "roles": [r.value for r in Role],
                "now": console.clock(),
                "created": None,
            },
        ),
    )


def _away(text: str, timezone: str) -> datetime | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Refused(Msg.AWAY_USAGE) from None
    return datetime.combine(day, time(8, 0), tzinfo=zone(timezone)).astimezone(UTC)


@staff_only
async def save_expert(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    form = await request.post()
    try:
        person_id = int(request.match_info["person"])
        capacity = int(_form_text(form, "capacity") or "0")
    except ValueError:
        raise web.HTTPBadRequest() from None
    try:
        async with console.uow() as uow:
            found = await uow.people.get(person_id)
            timezone = found.timezone if found else "UTC"
            await update_expert(
                console.context(uow),
                person_id,
                actor(me),
                languages=_form_text(form, "languages"),
                topics=_form_text(form, "topics"),
                capacity=capacity,
                away_until=_away(_form_text(form, "away_until"), timezone),
            )
            await uow.commit()
    except Refused as refused:
        return bad_request(request, refused, 400)
    raise flash_redirect(request, "/people", Msg.WEB_FLASH_SAVED)


@staff_only
async def invite(request: web.Request) -> web.StreamResponse:
    """A new invitation: its code, deep link and QR code are shown this once."""
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    form = await request.post()
    role_name = _form_text(form, "role")
    if role_name not in {r.value for r in Role}:
        raise web.HTTPBadRequest()
    try:
        capacity = int(_form_text(form, "capacity") or "3")
        days = int(_form_text(form, "days") or str(console.invite_valid_for.days))
    except ValueError:
        raise web.HTTPBadRequest() from None
    valid_for = timedelta(days=min(max(days, 1), 365))
    try:
        async with console.uow() as uow:
            made = await invite_from_form(
                console.context(uow),
                actor(me),
                Role(role_name),
                valid_for,
                name=_form_text(form, "name"),
                city=_form_text(form, "city"),
                country=_form_text(form, "country"),
                languages=_form_text(form, "languages"),
                topics=_form_text(form, "topics"),
                capacity=capacity,
            )
            await uow.commit()
    except Refused as refused:
        return bad_request(request, refused, 400)
    link = await console.deep_link(made.code) if console.deep_link is not None else None
    return render(
        request,
        Page(
            "invite_created.html",
            {
                "invite": made.invite,
                "code": made.code,
                "link": link,
                "qr": qr_svg(link or f"/start {made.code}"),
            },
        ),
    )


@staff_only
async def revoke(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    try:
        invite_id = int(request.match_info["invite"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with console.uow() as uow:
        await revoke_invite(console.context(uow), invite_id, actor(me))
        await uow.commit()
    raise flash_redirect(request, "/people#invitations", Msg.WEB_FLASH_REVOKED)


@staff_only
async def introduce_cities(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    me = signed_person(request)
    form = await request.post()
    contact = _form_text(form, "contact")
    try:
        number = int(request.match_info["request"])
    except ValueError:
        raise web.HTTPNotFound() from None
    if not contact or len(contact) > _MAX_CONTACT:
        return bad_request(request, Refused(Msg.INTRODUCE_USAGE), 400)
    async with console.uow() as uow:
        await introduce(console.context(uow), number, contact, actor(me))
        await uow.commit()
    console.wake()
    raise flash_redirect(request, "/people#connections", Msg.WEB_FLASH_INTRODUCED)


@staff_only
async def audit(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    query = request.query
    action = query.get("action", "")
    who = query.get("who", "").strip().casefold()
    subject = query.get("subject", "").strip().casefold()
    try:
        days = int(query.get("days", "30"))
    except ValueError:
        days = 30
    since = console.clock() - timedelta(days=min(max(days, 1), 3650))
    chosen = AuditAction(action) if action in {a.value for a in AuditAction} else None
    async with console.uow() as uow:
        events = await uow.audit.find(since=since, action=chosen, limit=2000)
    shown = [
        e
        for e in events
        if (not who or who in e.actor.casefold()) and (not subject or subject in e.subject)
    ][:_AUDIT_SHOWN]
    return render(
        request,
        Page(
            "audit.html",
            {
                "events": shown,
                "actions": [a.value for a in AuditAction],
                "filters": dict(query),
                "days": days,
            },
        ),
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/people", people)
    app.router.add_post("/people/{person}", save_expert)
    app.router.add_post("/invites", invite)
    app.router.add_post("/invites/{invite}/revoke", revoke)
    app.router.add_post("/connections/{request}/introduce", introduce_cities)
    app.router.add_get("/audit", audit)
