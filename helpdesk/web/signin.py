"""Signing in with a one-time link, and out.

Opening the link shows a button; only pressing it uses the link. Chat apps fetch links
to show a preview (Telegram does): a GET that signed in would use the link up before
its owner ever opened it."""

import hmac
import logging

from aiohttp import web

from helpdesk.i18n import Msg
from helpdesk.services.refusals import Refused
from helpdesk.services.web_access import SIGN_IN_PATH, redeem_link, sign_out
from helpdesk.web.app import (
    CONSOLE_KEY,
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    SIGNED,
    Page,
    new_pre_session_token,
    render,
    signed_person,
)

__all__ = ["add_routes"]

log = logging.getLogger(__name__)


async def sign_in_form(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    token = new_pre_session_token()
    response = render(
        request, Page("sign_in.html", {"form_token": token, "link": request.match_info["token"]})
    )
    response.set_cookie(
        PRE_SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=console.secure,
        max_age=900,
        path=console.root or "/",
    )
    return response


async def sign_in(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    client = request.remote or "?"
    if not console.attempts.allow(client):
        log.warning("web: too many sign-in attempts from one address")
        return render(request, Page("refused.html", {"refused": Refused(Msg.WEB_SLOW_DOWN)}, 429))
    form = await request.post()
    sent = form.get("csrf")
    expected = request.cookies.get(PRE_SESSION_COOKIE, "")
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        console.attempts.failed(client)
        raise web.HTTPForbidden(text="This form has expired: open the link again.")
    try:
        async with console.uow() as uow:
            cookie, _signed = await redeem_link(console.context(uow), request.match_info["token"])
            await uow.commit()
    except Refused as refused:
        console.attempts.failed(client)
        return render(request, Page("refused.html", {"refused": refused}, 403))
    response = web.HTTPSeeOther(console.root + "/")
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="Lax",
        secure=console.secure,
        path=console.root or "/",
    )
    response.del_cookie(PRE_SESSION_COOKIE, path=console.root or "/")
    raise response


async def signed_out(request: web.Request) -> web.StreamResponse:
    return render(request, Page("signed_out.html", {}))


async def sign_out_now(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE_KEY]
    async with console.uow() as uow:
        await sign_out(console.context(uow), request[SIGNED].session)
        await uow.commit()
    response = web.HTTPSeeOther(console.root + "/signed-out")
    response.del_cookie(SESSION_COOKIE, path=console.root or "/")
    raise response


async def home(request: web.Request) -> web.StreamResponse:
    root = request.app[CONSOLE_KEY].root
    person = signed_person(request)
    raise web.HTTPSeeOther(root + ("/queue" if person.is_staff else "/mine"))


def add_routes(app: web.Application) -> None:
    app.router.add_get(SIGN_IN_PATH + "{token}", sign_in_form)
    app.router.add_post(SIGN_IN_PATH + "{token}", sign_in)
    app.router.add_get("/signed-out", signed_out)
    app.router.add_post("/sign-out", sign_out_now)
    app.router.add_get("/", home)
