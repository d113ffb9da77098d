"""The knowledge base: entries, their phrasings and versions, and the cache of the
phrasings' embeddings."""

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select

from helpdesk.domain.curation import EntryVersion, describe_change
from helpdesk.domain.knowledge import (
    Entry,
    EntryStatus,
    entry_from_json,
    entry_to_json,
    translations_from_json,
    translations_to_json,
)
from helpdesk.services.ports import Upserted
from helpdesk.storage._mapping import AS_LIST, Mapper, Stored, enum
from helpdesk.storage._repository import Repository, chunks
from helpdesk.storage.tables import EmbeddingRow, EntryQuestionRow, EntryRow, EntryVersionRow

__all__ = ["SqlEmbeddings", "SqlEntries"]

ENTRY = Mapper(
    Entry,
    EntryRow,
    stored={
        "topics": AS_LIST,
        "status": enum(EntryStatus),
        "translations": Stored(load=translations_from_json, dump=translations_to_json),
    },
    # The phrasings are rows of their own, in order.
    given=["questions"],
)
VERSION = Mapper(
    EntryVersion,
    EntryVersionRow,
    stored={"entry": Stored("snapshot", load=entry_from_json, dump=entry_to_json)},
)


class SqlEntries(Repository):
    async def get(self, entry_id: str) -> Entry | None:
        row = await self.session.get(EntryRow, entry_id)
        if row is None:
            return None
        return (await self._entries([row]))[0]

    async def all(self, status: EntryStatus | None = None) -> list[Entry]:
        query = select(EntryRow).order_by(EntryRow.id)
        if status is not None:
            query = query.where(EntryRow.status == status.value)
        return await self._entries(list(await self.session.scalars(query)))

    async def upsert(self, entry: Entry, at: datetime, author: str = "import") -> Upserted:
        row = await self.session.get(EntryRow, entry.id)
        before = (await self._entries([row]))[0] if row is not None else None
        if before == entry:
            return "unchanged"
        await self._add_version(before, entry, at, author)
        created = row is None
        if row is None:
            row = EntryRow(id=entry.id, created_at=at)
            self.session.add(row)
        ENTRY.fill(row, entry, updated_at=at)
        await self.session.execute(
            delete(EntryQuestionRow).where(EntryQuestionRow.entry_id == entry.id)
        )
        self.session.add_all(
            EntryQuestionRow(entry_id=entry.id, position=i, text=text)
            for i, text in enumerate(entry.questions)
        )
        await self.session.flush()
        return "created" if created else "updated"

    async def retire_all_except(self, keep: set[str], at: datetime, author: str = "import") -> int:
        query = select(EntryRow).where(EntryRow.status != EntryStatus.RETIRED.value)
        if keep:
            query = query.where(EntryRow.id.not_in(keep))
        going = await self._entries(list(await self.session.scalars(query)))
        for entry in going:
            await self.upsert(dataclasses.replace(entry, status=EntryStatus.RETIRED), at, author)
        return len(going)

    async def history(self, entry_id: str) -> list[EntryVersion]:
        rows = await self.session.scalars(
            select(EntryVersionRow)
            .where(EntryVersionRow.entry_id == entry_id)
            .order_by(EntryVersionRow.version)
        )
        return [VERSION.to_domain(row) for row in rows]

    async def _add_version(
        self, before: Entry | None, after: Entry, at: datetime, author: str
    ) -> None:
        latest = await self.session.scalar(
            select(func.max(EntryVersionRow.version)).where(EntryVersionRow.entry_id == after.id)
        )
        version = EntryVersion(
            entry_id=after.id,
            version=(latest or 0) + 1,
            at=at,
            author=author,
            change=describe_change(before, after),
            entry=after,
        )
        self.session.add(VERSION.new_row(version))

    async def revision(self) -> str:
        # Every change adds a version: their number moves even when two changes share a
        # timestamp (a fast publish after a promote, a test's frozen clock). One statement:
        # this runs before every message.
        versions = select(func.count()).select_from(EntryVersionRow).scalar_subquery()
        count, latest, changes = (
            await self.session.execute(
                select(func.count(), func.max(EntryRow.updated_at), versions).select_from(EntryRow)
            )
        ).one()
        return f"{count}:{latest}:{changes}"

    async def _entries(self, rows: Sequence[EntryRow]) -> list[Entry]:
        phrasings = await self._children(
            EntryQuestionRow.entry_id,
            [row.id for row in rows],
            EntryQuestionRow.position,
            EntryQuestionRow.text,
            str,
        )
        return [ENTRY.to_domain(row, questions=tuple(phrasings[row.id])) for row in rows]


class SqlEmbeddings(Repository):
    async def get_many(self, model: str, text_hashes: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for some in chunks(list(dict.fromkeys(text_hashes))):
            rows = await self.session.execute(
                select(EmbeddingRow.text_hash, EmbeddingRow.vector)
                .where(EmbeddingRow.model == model)
                .where(EmbeddingRow.text_hash.in_(some))
            )
            found.update({text_hash: bytes(vector) for text_hash, vector in rows})
        return found

    async def put_many(self, model: str, vectors: dict[str, bytes]) -> None:
        known = await self.get_many(model, list(vectors))
        self.session.add_all(
            EmbeddingRow(model=model, text_hash=text_hash, vector=vector)
            for text_hash, vector in vectors.items()
            if text_hash not in known
        )
        await self.session.flush()
