"""Knowledge entries: curated good practice with the ways people ask for it."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from helpdesk.domain.errors import InvalidEntry
from helpdesk.domain.transliteration import to_serbian_cyrillic

__all__ = [
    "ENTRY_ID_PATTERN",
    "Entry",
    "EntryStatus",
    "Translation",
    "entry_from_json",
    "entry_to_json",
    "translations_from_json",
    "translations_to_json",
]

# Slug-like, so that an id is also a safe file name (knowledge/<id>.md): no slash, no space,
# no leading dot. Case is kept: knowledge bases written elsewhere use "LSC-01" too.
ENTRY_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")


class EntryStatus(StrEnum):
    PUBLISHED = "published"
    DRAFT = "draft"
    RETIRED = "retired"


@dataclass(frozen=True)
class Translation:
    """An entry's title and answer in another language than its own.

    ``unreviewed`` says how a translation nobody has reviewed yet was made
    ("machine-assisted"); None once a reviewer cleared it."""

    lang: str
    title: str
    body: str
    unreviewed: str | None = None


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    questions: tuple[str, ...]
    body: str
    topics: tuple[str, ...] = ()
    lang: str = "en"
    city: str | None = None
    country: str | None = None
    source: str | None = None
    status: EntryStatus = EntryStatus.PUBLISHED
    translations: tuple[Translation, ...] = ()

    def __post_init__(self) -> None:
        if not ENTRY_ID_PATTERN.match(self.id):
            raise InvalidEntry(
                f"id {self.id!r} must be a slug: letters a-z, digits, '-', '_' or '.', "
                "at most 120 characters"
            )
        if not self.title.strip():
            raise InvalidEntry("title is empty")
        if not self.questions or not all(q.strip() for q in self.questions):
            raise InvalidEntry("questions must list at least one non-empty phrasing")
        if self.status is EntryStatus.PUBLISHED and not self.body.strip():
            raise InvalidEntry("a published entry needs an answer below the front matter")

    @property
    def is_published(self) -> bool:
        return self.status is EntryStatus.PUBLISHED

    @cached_property
    def versions(self) -> dict[str, Translation]:
        """The entry in each language it has, by code: its own, each translation, and
        Serbian in Cyrillic made from Serbian in Latin script when it has that."""
        found = {self.lang: Translation(self.lang, self.title, self.body)}
        for translation in self.translations:
            found.setdefault(translation.lang, translation)
        latin = found.get("sr-Latn")
        if latin is not None and "sr" not in found:
            found["sr"] = Translation(
                "sr",
                to_serbian_cyrillic(latin.title),
                to_serbian_cyrillic(latin.body),
                latin.unreviewed,
            )
        return found

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language the entry can be read in."""
        return tuple(self.versions)

    def in_language(self, languages: Sequence[str]) -> Translation:
        """Title and answer in the first of ``languages`` the entry has (codes, most wanted
        first: ``sr-Latn`` before ``sr``); else in the entry's own language."""
        versions = self.versions
        for code in languages:
            if code in versions:
                return versions[code]
        return versions[self.lang]

    @property
    def phrasings(self) -> tuple[str, ...]:
        """Everything a question is matched against: the title in every language the
        entry has, and every phrasing. A translated title is a way of asking in that
        language that nobody had to write by hand."""
        titles = dict.fromkeys(v.title for v in self.versions.values())
        return (*titles, *self.questions)


def translations_to_json(translations: Sequence[Translation]) -> list[dict[str, str]]:
    return [
        {"lang": t.lang, "title": t.title, "body": t.body}
        | ({"unreviewed": t.unreviewed} if t.unreviewed else {})
        for t in translations
    ]


def translations_from_json(data: Sequence[dict[str, str]] | None) -> tuple[Translation, ...]:
    return tuple(
        Translation(t["lang"], t["title"], t["body"], t.get("unreviewed")) for t in data or ()
    )


def entry_to_json(entry: Entry) -> dict[str, object]:
    """The entry as plain data (kept with each version of it)."""
    return {
        "id": entry.id,
        "title": entry.title,
        "questions": list(entry.questions),
        "body": entry.body,
        "topics": list(entry.topics),
        "lang": entry.lang,
        "city": entry.city,
        "country": entry.country,
        "source": entry.source,
        "status": entry.status.value,
        "translations": translations_to_json(entry.translations),
    }


def entry_from_json(data: dict[str, Any]) -> Entry:
    return Entry(
        id=data["id"],
        title=data["title"],
        questions=tuple(data["questions"]),
        body=data["body"],
        topics=tuple(data.get("topics", ())),
        lang=data.get("lang", "en"),
        city=data.get("city"),
        country=data.get("country"),
        source=data.get("source"),
        status=EntryStatus(data.get("status", "published")),
        translations=translations_from_json(data.get("translations")),
    )
