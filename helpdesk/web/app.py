"""The web console's application: sessions, CSRF, security headers and page rendering,
shared by every page. Pages live in the modules beside this one and call the same use
cases as the chat and the command line.

Every response carries a Content-Security-Policy that allows no inline script and
nothing from elsewhere: a question, a name or an entry body that holds markup is shown
as text (templates escape everything), and even markup that slipped through could not
run."""

import hashlib
import hmac
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
from aiohttp import web
from markdown_it import MarkdownIt
from markupsafe import Markup

from helpdesk.domain.people import Person, Role
from helpdesk.domain.schedule import Timings
from helpdesk.i18n import Msg, Translator
from helpdesk.services.conflicts import again_on_conflict
from helpdesk.services.context import Context
from helpdesk.services.ports import Clock, EntryWriter, UnitOfWork, UnitOfWorkFactory
from helpdesk.services.refusals import Refused
from helpdesk.services.web_access import SIGN_IN_PATH, SignedIn, signed_in

__all__ = [
    "CONSOLE_KEY",
    "Console",
    "Page",
    "bad_request",
    "console_app",
    "flash_redirect",
    "render",
]

log = logging.getLogger(__name__)

_HERE = Path(__file__).parent
SESSION_COOKIE = "helpdesk_session"
PRE_SESSION_COOKIE = "helpdesk_signin"  # the sign-in form's double-submit token
CSRF_FIELD = "csrf"
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # sign-in tokens are in URLs
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
_PUBLIC = ("/static/", SIGN_IN_PATH, "/signed-out", "/health", "/metrics")


@dataclass
class Attempts:
    """At most ``limit`` failed sign-ins per client address in ``window`` seconds: a token
    cannot be guessed, but a flood of tries is refused cheaply all the same. Sign-ins that
    work do not count (an office behind one address signs in many times a day)."""

    limit: int = 10
    window: float = 300.0
    _failed: dict[str, deque[float]] = field(default_factory=dict)

    def allow(self, client: str) -> bool:
        failed = self._failed.get(client)
        if failed is None:
            return True
        now = time.monotonic()
        while failed and now - failed[0] > self.window:
            failed.popleft()
        if not failed:
            del self._failed[client]
        return len(failed) < self.limit

    def failed(self, client: str) -> None:
        if len(self._failed) > 10_000:  # forget the oldest addresses rather than grow for ever
            for address in list(self._failed)[:1000]:
                del self._failed[address]
        self._failed.setdefault(client, deque()).append(time.monotonic())


@dataclass
class Console:
    """What the console's pages need: the same things the chat handlers use."""

    uow: UnitOfWorkFactory
    clock: Clock
    translator: Translator
    public_url: str
    timings: Timings = field(default_factory=Timings)
    write_entry: EntryWriter | None = None
    invite_valid_for: timedelta = timedelta(days=30)
    # Wakes the outbox relay after a change that writes to someone (an answer): in the
    # bot's process it goes at once; alone (`helpdesk web serve`) the bot sends it.
    wake: Callable[[], None] = lambda: None
    # The Telegram deep link for an invitation code, when Telegram is configured.
    deep_link: Callable[[str], Awaitable[str | None]] | None = None
    # Tells the bot's matcher that the knowledge base may have changed (a publication, a
    # retirement, a restore), so that the next question is matched against it at once
    # rather than after the matcher's periodic check.
    knowledge_changed: Callable[[], None] = lambda: None
    attempts: Attempts = field(default_factory=Attempts)

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def root(self) -> str:
        """The path the console is served under behind a reverse proxy ("" at the root)."""
        return urlsplit(self.public_url).path.rstrip("/")

    def context(self, uow: UnitOfWork) -> Context:
        return Context(uow, self.clock(), self.timings)


CONSOLE_KEY = web.AppKey("console", Console)
SIGNED = web.RequestKey("signed", SignedIn)  # the session of the request, once checked
COOKIE = web.RequestKey("cookie", str)
_ENV_KEY = web.AppKey("templates", jinja2.Environment)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


def markdown(text: str) -> Markup:
    """Markdown as HTML; raw HTML in it is escaped and unsafe links (javascript:) are not
    made links (markdown-it's own checks)."""
    return Markup(_markdown.render(text))  # safe: markdown-it escapes HTML input


def csrf_token(cookie: str) -> str:
    """The form token of a session: derived from its cookie, so nothing more is stored,
    and unknown to a page on another site that cannot read the cookie."""
    return hashlib.sha256(f"csrf\x00{cookie}".encode()).hexdigest()


@dataclass(frozen=True)
class Page:
    """What a page handler gives back: a template, and what it shows."""

    template: str
    values: Mapping[str, Any]
    status: int = 200


def _language(person: Person | None) -> str:
    if person is None:
        return "en"
    return (
        person.ui_language
        or person.last_language
        or (person.languages[0] if person.languages else "en")
    )


def render(request: web.Request, page: Page) -> web.Response:
    """The page in the signed-in person's language, every value escaped."""
    console = request.app[CONSOLE_KEY]
    env = request.app[_ENV_KEY]
    signed: SignedIn | None = request.get(SIGNED)
    person = signed.person if signed else None
    language = _language(person)
    translator = console.translator

    def t(key: str, **params: Any) -> str:
        return translator.translate(Msg(key), language, params)

    def u(path: str, **query: Any) -> str:
        wanted = {k: v for k, v in query.items() if v not in (None, "")}
        return console.root + path + ("?" + urlencode(wanted) if wanted else "")

    flash = request.query.get("done", "")
    values = {
        "t": t,
        "u": u,
        "me": person,
        "is_staff": person is not None and person.role is Role.STAFF,
        "csrf": csrf_token(request.get(COOKIE, "")),
        "lang": language,
        "path": request.path,
        "flash": t(flash) if flash.startswith("web.flash.") and flash in _FLASH else "",
        **page.values,
    }
    html = env.get_template(page.template).render(values)
    return web.Response(text=html, content_type="text/html", status=page.status)


_FLASH = frozenset(key.value for key in Msg if key.value.startswith("web.flash."))


def flash_redirect(request: web.Request, path: str, done: Msg) -> web.HTTPSeeOther:
    """After a change: back to a page, which says what was done (POST, redirect, GET)."""
    root = request.app[CONSOLE_KEY].root
    separator = "&" if "?" in path else "?"
    return web.HTTPSeeOther(f"{root}{path}{separator}done={done.value}")


def bad_request(request: web.Request, refused: Refused, status: int = 409) -> web.Response:
    """A use case said no: the page says why, in the reader's language."""
    return render(
        request,
        Page("refused.html", {"refused": refused, "back": request.headers.get("Referer")}, status),
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers.update(_HEADERS)
        raise
    response.headers.update(_HEADERS)
    return response


def _is_public(path: str) -> bool:
    return path == "/favicon.ico" or any(path.startswith(prefix) for prefix in _PUBLIC)


@web.middleware
async def _session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every page but the sign-in and static files needs a live session; forms need
    their CSRF token."""
    if _is_public(request.path):
        return await handler(request)
    console = request.app[CONSOLE_KEY]
    cookie = request.cookies.get(SESSION_COOKIE, "")
    signed = None
    if cookie:
        async with console.uow() as uow:
            signed = await signed_in(console.context(uow), cookie)
            await uow.commit()
    if signed is None:
        if request.method == "POST":
            raise web.HTTPForbidden(text="Signed out: open a new link from /web in your chat.")
        raise web.HTTPSeeOther(console.root + "/signed-out")
    request[SIGNED] = signed
    request[COOKIE] = cookie
    if request.method == "POST":
        form = await request.post()
        sent = form.get(CSRF_FIELD)
        if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(cookie)):
            log.info("web: a form without its CSRF token was refused (%s)", request.path)
            raise web.HTTPForbidden(text="This form has expired: reload the page and try again.")
    return await handler(request)


@web.middleware
async def _forms(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A form that lost a race with another transaction (an expert answering the ticket
    that staff reassign) is handled again: each form's handler writes in one unit of work,
    rolled back by the conflict. One that a use case refused (the ticket was closed
    meanwhile) gets a page saying why, so that handlers need not catch it each. One that
    went through may have changed the knowledge base: the matcher checks before the next
    question instead of a few seconds later."""
    if request.method != "POST" or SIGNED not in request:
        return await handler(request)
    try:
        async for attempt in again_on_conflict():
            with attempt:
                return await handler(request)
        raise AssertionError("unreachable: again_on_conflict reraises")
    except Refused as refused:
        return bad_request(request, refused)
    finally:
        request.app[CONSOLE_KEY].knowledge_changed()


def staff_only(handler: Handler) -> Handler:
    """A page for staff: an expert's session gets 403, and the page is not named."""

    async def check(request: web.Request) -> web.StreamResponse:
        signed: SignedIn = request[SIGNED]
        if signed.person.role is not Role.STAFF:
            return render(request, Page("forbidden.html", {}, 403))
        return await handler(request)

    check.__name__ = handler.__name__
    check.__doc__ = handler.__doc__
    return check


def signed_person(request: web.Request) -> Person:
    signed: SignedIn = request[SIGNED]
    return signed.person


def new_pre_session_token() -> str:
    return secrets.token_urlsafe(24)


def console_app(console: Console, app: web.Application | None = None) -> web.Application:
    """The console's routes on ``app`` (the bot's HTTP server) or on a new application."""
    from helpdesk.web import pages_knowledge, pages_people, pages_reports, pages_tickets, signin

    app = app if app is not None else web.Application()
    app.middlewares.extend([_headers, _session, _forms])
    app[CONSOLE_KEY] = console
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = markdown
    env.filters["when"] = lambda at: f"{at:%Y-%m-%d %H:%M}" if at is not None else "–"
    app[_ENV_KEY] = env
    app.router.add_static("/static/", _HERE / "static", append_version=False)
    signin.add_routes(app)
    pages_tickets.add_routes(app)
    pages_knowledge.add_routes(app)
    pages_people.add_routes(app)
    pages_reports.add_routes(app)
    return app
