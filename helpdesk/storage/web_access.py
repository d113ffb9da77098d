"""Sign-in links and sessions of the web console."""

from datetime import datetime

from sqlalchemy import select, update

from helpdesk.domain.people import Role
from helpdesk.domain.web_access import SignInLink, WebSession
from helpdesk.storage._mapping import Mapper, enum
from helpdesk.storage._repository import Repository, bulk
from helpdesk.storage.tables import SignInLinkRow, WebSessionRow

__all__ = ["SqlWebAccess"]

LINK = Mapper(SignInLink, SignInLinkRow)
SESSION = Mapper(WebSession, WebSessionRow, stored={"role": enum(Role)})


class SqlWebAccess(Repository):
    async def add_link(self, link: SignInLink) -> SignInLink:
        link.id = (await self._insert(LINK.new_row(link))).id
        return link

    async def find_link(self, token_hash: str) -> SignInLink | None:
        row = await self.session.scalar(
            select(SignInLinkRow).where(SignInLinkRow.token_hash == token_hash)
        )
        return LINK.to_domain(row) if row is not None else None

    async def use_link(self, link_id: int, at: datetime) -> bool:
        used = await bulk(
            self.session,
            update(SignInLinkRow)
            .where(SignInLinkRow.id == link_id, SignInLinkRow.used_at.is_(None))
            .values(used_at=at),
        )
        return used == 1

    async def add_session(self, session: WebSession) -> WebSession:
        session.id = (await self._insert(SESSION.new_row(session))).id
        return session

    async def find_session(self, token_hash: str) -> WebSession | None:
        row = await self.session.scalar(
            select(WebSessionRow).where(WebSessionRow.token_hash == token_hash)
        )
        return SESSION.to_domain(row) if row is not None else None

    async def seen(self, session_id: int, at: datetime) -> None:
        await bulk(
            self.session,
            update(WebSessionRow).where(WebSessionRow.id == session_id).values(last_seen_at=at),
        )

    async def end(self, session_id: int, at: datetime) -> None:
        await bulk(
            self.session,
            update(WebSessionRow)
            .where(WebSessionRow.id == session_id, WebSessionRow.ended_at.is_(None))
            .values(ended_at=at),
        )

    async def end_all(self, person_id: int, at: datetime) -> int:
        return await bulk(
            self.session,
            update(WebSessionRow)
            .where(WebSessionRow.person_id == person_id, WebSessionRow.ended_at.is_(None))
            .values(ended_at=at),
        )
