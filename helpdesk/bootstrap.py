"""Wiring: settings → database → knowledge index → conversation. The one place that
builds things; nothing is created at import time anywhere else.

The knowledge index (with the embedding model, seconds to load) and the conversation are
built on first use: a command that only reads or writes rows (``helpdesk kb list``)
starts without the model.
"""

import dataclasses
import functools
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from helpdesk.adapters.console import PLATFORM as CONSOLE
from helpdesk.domain.knowledge import Entry
from helpdesk.domain.languages import SUPPORTED_LANGUAGES
from helpdesk.domain.people import ChatIdentity, Person, Role
from helpdesk.domain.schedule import QuietHours, Timings
from helpdesk.i18n import Translator
from helpdesk.knowledge_files import read_knowledge, write_entries
from helpdesk.knowledge_vectors import read_vectors
from helpdesk.matching import Matcher, MatchPolicy
from helpdesk.matching.decision import HYBRID_POLICY, LEXICAL_POLICY
from helpdesk.matching.fuzzy import FuzzyMatcher
from helpdesk.matching.hybrid import HybridMatcher
from helpdesk.matching.language import LanguageIdentifier
from helpdesk.matching.semantic import Embedder, Vectors, load_embedder
from helpdesk.services.conversation import Helpdesk
from helpdesk.services.input import InputLimits
from helpdesk.services.knowledge import ImportReport, KnowledgeIndex, import_entries
from helpdesk.services.pace import Pace
from helpdesk.services.ports import Clock, MatcherFactory, UnitOfWork
from helpdesk.settings import Settings
from helpdesk.storage.database import Database

__all__ = [
    "App",
    "bootstrap",
    "ensure_local_people",
    "entry_writer",
    "import_knowledge_if_empty",
    "matcher_factory",
    "policy_for",
    "utc_now",
]

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def policy_for(settings: Settings, default: MatchPolicy) -> MatchPolicy:
    """The calibrated thresholds of the matcher in use, with any set in the settings."""
    return dataclasses.replace(
        default,
        answer_at=default.answer_at
        if settings.match_answer_at is None
        else settings.match_answer_at,
        suggest_at=default.suggest_at
        if settings.match_suggest_at is None
        else settings.match_suggest_at,
        margin=default.margin if settings.match_margin is None else settings.match_margin,
    )


def matcher_factory(settings: Settings, embedder: Embedder | None) -> MatcherFactory:
    """Hybrid when there is an embedding model and vectors; lexical otherwise."""
    lexical_policy = policy_for(settings, LEXICAL_POLICY)
    hybrid_policy = policy_for(settings, HYBRID_POLICY)

    def build(entries: Sequence[Entry], vectors: Mapping[str, Vectors] | None) -> Matcher:
        if embedder is not None and vectors is not None:
            return HybridMatcher(entries, embedder, vectors, hybrid_policy)
        return FuzzyMatcher(entries, lexical_policy)

    return build


@dataclass
class App:
    """What the bot and the commands work with. ``knowledge``, ``helpdesk`` and
    ``languages`` are built when first used, the embedding model with them."""

    settings: Settings
    database: Database
    translator: Translator
    clock: Clock

    def uow(self) -> UnitOfWork:
        return self.database.unit_of_work()

    @property
    def timings(self) -> Timings:
        """When tickets are reminded, reassigned and followed up, from the settings."""
        return timings_from(self.settings)

    @functools.cached_property
    def knowledge(self) -> KnowledgeIndex:
        """The published entries and the matcher over them; loads the embedding model
        when semantic matching is on."""
        settings = self.settings
        embedder = None
        if settings.semantic_matching:
            embedder = load_embedder(settings.embedding_threads or min(4, os.cpu_count() or 1))
        return KnowledgeIndex(
            self.database.unit_of_work, matcher_factory(settings, embedder), embedder
        )

    @functools.cached_property
    def languages(self) -> LanguageIdentifier:
        """Which of the bot's languages a text is in (its models load on first use)."""
        return LanguageIdentifier()

    @functools.cached_property
    def helpdesk(self) -> Helpdesk:
        """The conversation every chat adapter hands its messages to."""
        settings = self.settings
        return Helpdesk(
            self.database.unit_of_work,
            self.knowledge,
            self.clock,
            InputLimits(max_length=settings.max_message_length),
            self.timings,
            write_entry=entry_writer(settings.knowledge_dir),
            pace=Pace(settings.max_messages_per_minute),
            languages=self.languages,
            web_url=settings.public_web_url if settings.web_port or settings.web_url else None,
        )

    async def close(self) -> None:
        await self.database.close()


def entry_writer(folder: Path) -> Callable[[Entry], None]:
    """Published and retired entries are written back as ``<folder>/<id>.md``."""

    def write(entry: Entry) -> None:
        write_entries([entry], folder)

    return write


def timings_from(settings: Settings) -> Timings:
    return Timings(
        remind_after=settings.expert_reminder_after,
        reassign_after=settings.reassign_after,
        follow_up_after=settings.followup_after,
        digest_every=settings.digest_every,
        quiet_hours=QuietHours.parse(settings.quiet_hours),
    )


async def bootstrap(settings: Settings, *, clock: Clock = utc_now) -> App:
    """Connect, bring the schema up to date, and wire the services."""
    database = Database.connect(settings.database_url)
    try:
        await database.upgrade()
    except BaseException:
        await database.close()
        raise
    return App(settings, database, Translator(), clock)


async def import_knowledge_if_empty(app: App) -> ImportReport | None:
    """First run: fill an empty knowledge base from the knowledge folder. Workers starting
    together on a new database take turns; the first imports, the others find entries.
    Every start also puts the folder's shipped vectors in the cache: after an upgrade
    that embeds more of each entry, the matcher embeds none of what the folder has."""
    async with app.database.exclusively("first-import"):
        report = await _import_if_empty(app)
    if app.settings.knowledge_dir.is_dir():
        await seed_vectors(app, [app.settings.knowledge_dir])
    return report


async def _import_if_empty(app: App) -> ImportReport | None:
    async with app.uow() as uow:
        if await uow.entries.all():
            return None
    folder = app.settings.knowledge_dir
    if not folder.is_dir():
        log.warning("knowledge base is empty and %s is not a folder", folder)
        return None
    files = read_knowledge([folder])
    for problem in files.problems:
        log.warning("%s", problem)
    if not files.ok:
        log.error("knowledge folder %s has errors; nothing imported", folder)
        return None
    report = await import_entries(app.uow, files.entries, app.clock)
    log.info("imported %d entries from %s", len(report.created), folder)
    return report


async def seed_vectors(app: App, folders: Iterable[Path]) -> int:
    """Put the vectors shipped in knowledge folders (``vectors.npz``) in the cache, so that
    the matcher does not embed those texts again; how many were new."""
    if not app.settings.semantic_matching:
        return 0
    embedder = app.knowledge.embedder
    if embedder is None:
        return 0
    seeded = 0
    for folder in folders:
        found = read_vectors(folder, embedder.model, embedder.dimensions)
        seeded += await app.knowledge.seed(found)
    return seeded


@dataclass(frozen=True)
class _Local:
    role: Role
    name: str
    languages: tuple[str, ...]
    capacity: int = 3


# The expert speaks every language so that a question in any of them reaches someone.
_LOCAL_PEOPLE = {
    "official": _Local(Role.OFFICIAL, "Local official", ("en",)),
    "expert": _Local(Role.EXPERT, "Local expert", SUPPORTED_LANGUAGES, capacity=50),
    "staff": _Local(Role.STAFF, "Local staff", ("en",)),
}


async def ensure_local_people(app: App) -> dict[str, Person]:
    """The console's three people, by their address (the official first), created on
    first use (by one process at a time: two consoles opened together on a new database
    would both create them)."""
    people: dict[str, Person] = {}
    async with app.database.exclusively("console-people"), app.uow() as uow:
        for address, local in _LOCAL_PEOPLE.items():
            identity = ChatIdentity(CONSOLE, address)
            person = await uow.people.by_identity(identity)
            if person is None:
                person = await uow.people.add(
                    Person(
                        name=local.name,
                        role=local.role,
                        languages=local.languages,
                        capacity=local.capacity,
                        identities=[identity],
                        created_at=app.clock(),
                    )
                )
            people[address] = person
        await uow.commit()
    return people
