"""The knowledge base as the conversation sees it, and importing curated entries into it."""

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from helpdesk.domain.knowledge import Entry, EntryStatus
from helpdesk.domain.questions import Match
from helpdesk.matching import Matcher
from helpdesk.matching.hybrid import HybridMatcher
from helpdesk.matching.semantic import Embedder, Vectors
from helpdesk.services.ports import Clock, MatcherFactory, UnitOfWorkFactory

__all__ = ["ImportReport", "KnowledgeIndex", "import_entries"]

log = logging.getLogger(__name__)

# Candidates this close to the best one tell what a question is about (for routing).
_TOPIC_WINDOW = 15.0
_EMBED_BATCH = 64
_PREPARED = 256  # questions matched ahead and kept for their message's turn


class KnowledgeIndex:
    """The published entries and a matcher over them, rebuilt when the base changes.

    Building normalises every phrasing once and, with an embedding model, embeds the
    texts it has not embedded before (vectors are cached in the database, so a restart
    or another process does not embed them again). The revision is checked at most every
    ``check_every`` seconds, not for every message (it was a transaction of its own), and
    at once after ``changed``: entries imported by ``helpdesk kb import`` reach a running
    bot within seconds, and those a staff member publishes in the chat with the next
    question.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        build: MatcherFactory,
        embedder: Embedder | None = None,
        check_every: float = 5.0,
    ) -> None:
        self._uow = uow
        self._build = build
        self._embedder = embedder
        self._revision: str | None = None
        self._matcher: Matcher | None = None
        self._entries: dict[str, Entry] = {}
        self._lock = asyncio.Lock()
        self._check_every = check_every
        self._next_check = 0.0  # time.monotonic() of the next revision check
        self._prepared: dict[str, tuple[Matcher, Match]] = {}
        self._matching = threading.Lock()

    @property
    def embedder(self) -> Embedder | None:
        return self._embedder

    def changed(self) -> None:
        """The knowledge base may have changed: the next ``refresh`` checks."""
        self._next_check = 0.0

    async def refresh(self) -> Matcher:
        """The matcher for the current knowledge base (as of a few seconds ago at most)."""
        if self._matcher is not None and time.monotonic() < self._next_check:
            return self._matcher
        async with self._lock:
            if self._matcher is not None and time.monotonic() < self._next_check:
                return self._matcher  # checked by another message while this one waited
            # Set before reading: a change signalled while this runs is checked next time.
            self._next_check = time.monotonic() + self._check_every
            async with self._uow() as uow:
                revision = await uow.entries.revision()
                if self._matcher is not None and revision == self._revision:
                    return self._matcher
                entries = await uow.entries.all(EntryStatus.PUBLISHED)
            vectors = await self._vectors(entries) if self._embedder else None
            self._matcher = await asyncio.to_thread(self._build, entries, vectors)
            self._entries = {e.id: e for e in entries}
            self._revision = revision
            return self._matcher

    @property
    def current(self) -> Matcher:
        """The matcher as of the last refresh (``refresh`` first: this reads no database)."""
        if self._matcher is None:
            raise RuntimeError("KnowledgeIndex.refresh() has not run yet")
        return self._matcher

    async def match(self, question: str) -> Match:
        """Match with the current matcher, off the event loop: scoring, and embedding a
        question, take CPU time. A question ``prepare``d before is not matched again."""
        matcher = self.current
        prepared = self._prepared.pop(question, None)
        if prepared is not None and prepared[0] is matcher:
            return prepared[1]
        return await self._matched(matcher, question)

    async def prepare(self, question: str) -> None:
        """Match ``question`` now, for ``match`` to find: a message's handling does it
        before its transaction writes anything, so that other messages' transactions go on
        meanwhile (on SQLite the first write holds the database until the commit)."""
        matcher = self.current
        found = await self._matched(matcher, question)
        while len(self._prepared) >= _PREPARED:  # those never asked for (a duplicate)
            self._prepared.pop(next(iter(self._prepared)))
        self._prepared[question] = (matcher, found)

    async def _matched(self, matcher: Matcher, question: str) -> Match:
        """``question`` matched by ``matcher``: on a thread where the model may embed it
        (the model leaves Python's lock while it runs, so other chats go on), and here
        where only lexical scores are computed: they hold that lock throughout, and a trip
        to a thread and back would cost more than they do."""
        if self._embedder is None:
            return matcher.match(question)
        return await asyncio.to_thread(self._match, matcher, question)

    def _match(self, matcher: Matcher, question: str) -> Match:
        # One question at a time: the embedding model uses every core it is given, and
        # matchers are not promised to be safe across threads.
        with self._matching:
            return matcher.match(question)

    @property
    def entries(self) -> tuple[Entry, ...]:
        """The published entries as of the last refresh."""
        return tuple(self._entries.values())

    def entry(self, entry_id: str) -> Entry | None:
        """A published entry as of the last refresh."""
        return self._entries.get(entry_id)

    def topics_of(self, match: Match) -> tuple[str, ...]:
        """The topics a question is probably about: those of the candidates close to the best."""
        topics: dict[str, None] = {}
        for candidate in match.candidates:
            if candidate.score < match.score - _TOPIC_WINDOW:
                break
            entry = self._entries.get(candidate.entry_id)
            if entry is not None:
                topics.update(dict.fromkeys(entry.topics))
        return tuple(topics)

    async def seed(self, vectors: Mapping[str, bytes]) -> int:
        """Put vectors made elsewhere of this model (text hash → float32 bytes) in the
        cache, for the next build not to embed them; how many were new to it."""
        embedder = self._embedder
        if embedder is None or not vectors:
            return 0
        async with self._uow() as uow:
            known = await uow.embeddings.get_many(embedder.model, list(vectors))
            new = {h: v for h, v in vectors.items() if h not in known}
            if new:  # every start seeds: most find them all cached and write nothing
                await uow.embeddings.put_many(embedder.model, new)
                await uow.commit()
        return len(new)

    async def cached_vectors(self, entries: Sequence[Entry]) -> dict[str, bytes]:
        """The cached vectors of every text of ``entries`` the matcher embeds, by hash."""
        embedder = self._embedder
        if embedder is None:
            return {}
        hashes = text_hashes(HybridMatcher.vectors_needed(entries))
        async with self._uow() as uow:
            return await uow.embeddings.get_many(embedder.model, list(hashes.values()))

    async def _vectors(self, entries: Sequence[Entry]) -> dict[str, Vectors]:
        embedder = self._embedder
        assert embedder is not None
        needed = HybridMatcher.vectors_needed(entries)
        hashes = text_hashes(needed)
        async with self._uow() as uow:
            cached = await uow.embeddings.get_many(embedder.model, list(hashes.values()))
        vectors = {
            key: np.frombuffer(cached[hashes[key]], dtype=np.float32)
            for key in needed
            if hashes[key] in cached
        }
        missing = [key for key in needed if key not in vectors]
        if missing:
            log.info("embedding %d new texts of the knowledge base", len(missing))
            computed = await asyncio.to_thread(_embed, embedder, [needed[k] for k in missing])
            vectors.update(zip(missing, computed, strict=True))
            async with self._uow() as uow:
                await uow.embeddings.put_many(
                    embedder.model,
                    {hashes[key]: vectors[key].astype(np.float32).tobytes() for key in missing},
                )
                await uow.commit()
        return vectors


def text_hashes(keys: Iterable[str]) -> dict[str, str]:
    """What the vector of each text key is cached under."""
    return {key: hashlib.sha256(key.encode()).hexdigest() for key in keys}


def _embed(embedder: Embedder, items: Sequence[tuple[str, str]]) -> list[Vectors]:
    vectors: list[Vectors] = []
    for start in range(0, len(items), _EMBED_BATCH):
        batch = items[start : start + _EMBED_BATCH]
        questions = [text for kind, text in batch if kind == "question"]
        passages = [text for kind, text in batch if kind != "question"]
        by_kind = {
            "question": iter(embedder.embed_questions(questions)),
            "passage": iter(embedder.embed_passages(passages)),
        }
        vectors.extend(
            next(by_kind["question" if kind == "question" else "passage"]) for kind, _ in batch
        )
    return vectors


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: int = 0
    published: int = 0  # published entries in the base afterwards


async def import_entries(
    uow_factory: UnitOfWorkFactory,
    entries: Sequence[Entry],
    clock: Clock,
    *,
    replace: bool = False,
) -> ImportReport:
    """Create or update ``entries`` in one transaction; with ``replace``, retire the others."""
    report = ImportReport()
    now = clock()
    async with uow_factory() as uow:
        for entry in entries:
            outcome = await uow.entries.upsert(entry, now)
            getattr(report, outcome).append(entry.id)
        if replace:
            report.retired = await uow.entries.retire_all_except({e.id for e in entries}, now)
        report.published = len(await uow.entries.all(EntryStatus.PUBLISHED))
        await uow.commit()
    return report
