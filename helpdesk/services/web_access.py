"""Who may use the web console, and signing in to it: a one-time link (``/web`` in chat,
``helpdesk web link`` on the server) opens a session kept on the server.

Staff see everything; experts their own tickets; officials nothing (their chat is their
interface). A session ends on sign-out, when idle too long, after a working day, and as
soon as its person is erased or given another role."""

import logging
from dataclasses import dataclass

from helpdesk.domain.people import Person, Role
from helpdesk.domain.web_access import (
    LINK_VALID_FOR,
    SignInLink,
    WebSession,
    hash_token,
    new_token,
)
from helpdesk.i18n import Msg
from helpdesk.services.context import Context
from helpdesk.services.refusals import Refused

__all__ = [
    "SIGN_IN_PATH",
    "SignedIn",
    "issue_link",
    "redeem_link",
    "sign_in_url",
    "sign_out",
    "signed_in",
]

log = logging.getLogger(__name__)

SIGN_IN_PATH = "/sign-in/"  # followed by the link's token
_WEB_ROLES = frozenset({Role.STAFF, Role.EXPERT})


@dataclass(frozen=True)
class SignedIn:
    """A live session and the person it is for."""

    session: WebSession
    person: Person


def sign_in_url(base_url: str, token: str) -> str:
    """The link a person opens: the console's public address and the token."""
    return base_url.rstrip("/") + SIGN_IN_PATH + token


async def issue_link(ctx: Context, person: Person) -> str:
    """A one-time sign-in token for staff or an expert, valid ``LINK_VALID_FOR``."""
    if person.role not in _WEB_ROLES or person.erased_at is not None or person.id is None:
        raise Refused(Msg.WEB_NOT_FOR_YOU)
    token = new_token()
    await ctx.uow.web_access.add_link(
        SignInLink(
            token_hash=hash_token(token),
            person_id=person.id,
            created_at=ctx.now,
            expires_at=ctx.now + LINK_VALID_FOR,
        )
    )
    log.info("web sign-in link issued for person %s", person.id)
    return token


async def redeem_link(ctx: Context, token: str) -> tuple[str, SignedIn]:
    """A new session (its cookie token, and who it is for) for a valid, unused link.
    The link is used up either way."""
    link = await ctx.uow.web_access.find_link(hash_token(token))
    if link is None or link.id is None or not link.is_valid(ctx.now):
        raise Refused(Msg.WEB_LINK_BAD)
    if not await ctx.uow.web_access.use_link(link.id, ctx.now):
        raise Refused(Msg.WEB_LINK_BAD)
    person = await ctx.uow.people.get(link.person_id)
    if person is None or person.erased_at is not None or person.role not in _WEB_ROLES:
        raise Refused(Msg.WEB_LINK_BAD)
    cookie = new_token()
    session = await ctx.uow.web_access.add_session(
        WebSession(
            token_hash=hash_token(cookie),
            person_id=link.person_id,
            role=person.role,
            created_at=ctx.now,
            last_seen_at=ctx.now,
        )
    )
    log.info("web session opened for person %s", person.id)
    return cookie, SignedIn(session, person)


async def signed_in(ctx: Context, cookie: str) -> SignedIn | None:
    """The live session behind a cookie, its last use recorded; None (and the session
    ended) when it expired, or its person was erased or changed role since."""
    session = await ctx.uow.web_access.find_session(hash_token(cookie))
    if session is None or session.id is None or session.ended_at is not None:
        return None
    person = await ctx.uow.people.get(session.person_id)
    if (
        not session.is_live(ctx.now)
        or person is None
        or person.erased_at is not None
        or person.role is not session.role
        or person.role not in _WEB_ROLES
    ):
        await ctx.uow.web_access.end(session.id, ctx.now)
        return None
    await ctx.uow.web_access.seen(session.id, ctx.now)
    session.last_seen_at = ctx.now
    return SignedIn(session, person)


async def sign_out(ctx: Context, session: WebSession) -> None:
    assert session.id is not None
    await ctx.uow.web_access.end(session.id, ctx.now)
