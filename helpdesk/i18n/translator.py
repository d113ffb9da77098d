"""The translation layer: every sentence a user sees is rendered here, by key, for a language.

Catalogues are gettext ``.po`` files (one per language, ``msgid`` = the key),
read with Babel and compiled in memory, so there is no build step and plural
forms follow each language's rules.
"""

import gettext
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from helpdesk.domain.languages import base_language, closest_languages, normalize_language_code
from helpdesk.i18n.keys import Msg
from helpdesk.i18n.messages import LanguageName, Param, Part, Place, Quote, Reply, Text

__all__ = [
    "DEFAULT_LANGUAGE",
    "LOCALES",
    "RenderedReply",
    "Translator",
    "country_name",
    "language_name",
]

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"
LOCALES = Path(__file__).parent / "locales"

# Babel has no Montenegrin of its own (it maps cnr to Serbian, Latin, Montenegro).
_NAME_OVERRIDES = {"cnr": "crnogorski"}


@dataclass(frozen=True)
class RenderedReply:
    """A reply as plain text, with its buttons as (label, action) pairs."""

    text: str
    buttons: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Catalogue:
    translations: gettext.GNUTranslations
    keys: frozenset[str]
    plural_keys: frozenset[str]


class Translator:
    """Looks sentences up in the catalogues, falling back from ``sr-Latn`` to ``sr`` to English."""

    def __init__(self, locales: Path = LOCALES) -> None:
        self._locales = locales

    def available(self) -> tuple[str, ...]:
        """Languages that have a catalogue."""
        return tuple(sorted(p.stem for p in self._locales.glob("*.po")))

    def translate(self, key: Msg, language: str | None, params: Mapping[str, Param]) -> str:
        rendered = {name: self._param(value, language) for name, value in params.items()}
        count = params.get("count")
        for code in self._chain(language):
            catalogue = self._catalogue(code)
            if catalogue is None or key.value not in catalogue.keys:
                continue
            if key.value in catalogue.plural_keys and isinstance(count, int):
                template = catalogue.translations.ngettext(key.value, key.value, count)
            else:
                template = catalogue.translations.gettext(key.value)
            try:
                return template.format_map(rendered)
            except (KeyError, IndexError, ValueError):
                log.error("catalogue %s: bad placeholders in %s", code, key.value)
        log.error("no catalogue has the message %s", key.value)
        return key.value

    def part(self, part: Part, language: str | None) -> str:
        if isinstance(part, Quote):
            return part.text
        return self.translate(part.key, language, part.params)

    def render(self, reply: Reply, language: str | None) -> RenderedReply:
        """Plain text, paragraphs separated by a blank line."""
        text = "\n\n".join(self.part(p, language) for p in reply.parts)
        buttons = tuple((self.part(b.label, language), b.line) for b in reply.buttons)
        return RenderedReply(text, buttons)

    def _param(self, value: Param, language: str | None) -> str:
        if isinstance(value, LanguageName):
            return f"{language_name(value.code)} ({value.code})"
        if isinstance(value, Place):
            country = country_name(value.country, language) if value.country else None
            return ", ".join(p for p in (value.city, country) if p)
        if isinstance(value, Text | Quote):
            return self.part(value, language)
        if isinstance(value, tuple):
            return "\n".join(self.part(v, language) for v in value)
        return str(value)

    def _chain(self, language: str | None) -> list[str]:
        chain: list[str] = []
        code = normalize_language_code(language) if language else None
        while code:
            chain.append(code)
            code = code.rpartition("-")[0]
        chain.append(DEFAULT_LANGUAGE)
        return chain

    def _catalogue(self, code: str) -> _Catalogue | None:
        return _load_catalogue(self._locales, code)


# Looked up for every sentence by folder and code: a path built each time to look it up
# by would cost more than the lookup.
@cache
def _load_catalogue(locales: Path, code: str) -> _Catalogue | None:
    path = locales / f"{code}.po"
    if not path.exists():
        return None
    with path.open("rb") as po:
        catalog = read_po(po, locale=path.stem.replace("-", "_"))
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    keys: set[str] = set()
    plural_keys: set[str] = set()
    for message in catalog:
        if not message.id or not message.string:
            continue
        if message.pluralizable:
            key = str(message.id[0])
            plural_keys.add(key)
        else:
            key = str(message.id)
        keys.add(key)
    return _Catalogue(gettext.GNUTranslations(buffer), frozenset(keys), frozenset(plural_keys))


@lru_cache(maxsize=1024)  # said in every answer: Babel's lookups once per country and reader
def country_name(country: str, language: str | None) -> str:
    """A country as a reader of ``language`` names it (``Bosnia and Herzegovina`` →
    Bosna i Hercegovina), from Babel's names of territories; as written when it is no
    country Babel knows, or the reader reads English and it is written in English."""
    code = _territories().get(_folded(country))
    if code is None:
        return country
    for candidate in closest_languages(normalize_language_code(language or DEFAULT_LANGUAGE)):
        if candidate in _NAME_OVERRIDES:
            continue  # Babel has no names of its own in it: the next closest language's
        if base_language(candidate) == DEFAULT_LANGUAGE and _is_english_name(country, code):
            return country
        try:
            name = Locale.parse(candidate.replace("-", "_")).territories.get(code)
        except (ValueError, UnknownLocaleError):
            continue
        if name:
            return str(name)
    return country


def _folded(name: str) -> str:
    return " ".join(name.casefold().replace("&", "and").split())


@cache
def _territories() -> dict[str, str]:
    """Country names in the languages the bot speaks (and ISO codes), folded → ISO code."""
    names: dict[str, str] = {}
    for language in ("en", "bs", "hr", "sr", "sr_Latn", "mk", "sq", "fr"):
        for code, name in Locale.parse(language).territories.items():
            if len(code) == 2 and code.isalpha():  # countries, not regions such as 150
                names.setdefault(_folded(str(name)), code)
                names.setdefault(code.casefold(), code)
    return names


def _is_english_name(country: str, code: str) -> bool:
    """Whether ``country`` is already the English name of ``code`` (``&`` or ``and``)."""
    english = Locale.parse(DEFAULT_LANGUAGE).territories.get(code)
    return english is not None and _folded(str(english)) == _folded(country)


def language_name(code: str) -> str:
    """A language's name in that language (``sr`` → српски), for people choosing one."""
    if code in _NAME_OVERRIDES:
        return _NAME_OVERRIDES[code]
    try:
        locale = Locale.parse(code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return code
    name: str | None = locale.get_display_name()
    return name or code
