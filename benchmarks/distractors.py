"""A large base of ordinary municipal-service entries, to put beside the project's own.

    .venv/bin/python -m benchmarks.distractors OUT_DIR [--size 10000]   # as knowledge files

The entries are services × aspects × municipalities (benchmarks/data/municipal/: 148
services such as building permits, property tax or pothole reports; 45 aspects such as
cost, documents, deadlines, opening hours or appeals; six municipalities), as a regional
portal that gathers its municipalities' service pages would have them. Each entry has a
title, six phrasings in six of the nine language variants the bot speaks (always the
municipality's own), and a short answer in the municipality's language or English. So
every entry has many near-duplicate neighbours: the same service asked about something
else, the same question about another service, the same page in another municipality.

Deterministic: the same seed gives the same base, text for text.
"""

import argparse
import random
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helpdesk.domain.knowledge import Entry
from helpdesk.domain.transliteration import to_serbian_cyrillic

__all__ = ["LANGUAGES", "distractor_entries", "write_entries"]

DATA = Path(__file__).resolve().parent / "data" / "municipal"
LANGUAGES = ("en", "bs", "hr", "sr", "sr-Latn", "cnr", "mk", "sq", "fr")
SEED = 20261207
PHRASINGS = 6
BASE = 10_000
_ORDER_SEED = 1
CITY_MENTIONED = 0.35  # share of phrasings that name the municipality
GREETED = 0.15  # share that open with a greeting
CASUAL = 0.2  # share typed in lower case without diacritics
ENGLISH_ANSWER = 0.3  # share of answers written in English, not the municipality's language

# French: "de le" → "du", "à les" → "aux", "de un" → "d'un", as the templates put
# articles after prepositions.
_FRENCH = (
    (re.compile(r"\bde le\b"), "du"),
    (re.compile(r"\bde les\b"), "des"),
    (re.compile(r"\bà le\b"), "au"),
    (re.compile(r"\bà les\b"), "aux"),
    (re.compile(r"\bde un\b"), "d'un"),
    (re.compile(r"\bde une\b"), "d'une"),
    (re.compile(r"\bde ([aeiouéèh])"), r"d'\1"),
    (re.compile(r"\bque un\b"), "qu'un"),
)


@dataclass(frozen=True)
class _Service:
    id: str
    kind: str
    subject: dict[str, str]
    object: dict[str, str]


def _load(name: str) -> Any:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def _services() -> list[_Service]:
    services = []
    for service_id, data in _load("services.yaml").items():
        subject, obj = {}, {}
        for lang in LANGUAGES:
            if lang == "sr":
                continue
            forms = [f.strip() for f in str(data[lang]).split("|")]
            subject[lang], obj[lang] = forms[0], forms[-1]
        services.append(_Service(service_id, data["kind"], subject, obj))
    return services


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fill(template: str, service: _Service, lang: str, **extra: str) -> str:
    source = "sr-Latn" if lang == "sr" else lang
    name = service.subject[source]
    text = template.format(name=name, Name=_capitalised(name), obj=service.object[source], **extra)
    if lang == "fr":
        for pattern, replacement in _FRENCH:
            text = pattern.sub(replacement, text)
    return to_serbian_cyrillic(text) if lang == "sr" else text


def _casual(text: str) -> str:
    """As typed in a hurry: lower case, Latin letters without diacritics."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "dj").replace("Đ", "Dj"))
    return "".join(c for c in folded if not unicodedata.combining(c)).lower()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _casual(text)).strip("-")


def _phrasing(
    rng: random.Random,
    aspect: dict[str, Any],
    service: _Service,
    lang: str,
    city: str,
    greetings: dict[str, list[str]],
) -> str:
    source = "sr-Latn" if lang == "sr" else lang
    text = _fill(rng.choice(aspect["ask"][source]), service, lang)
    greeted = rng.random() < GREETED
    if greeted:
        greeting = rng.choice(greetings[source])
        greeting = to_serbian_cyrillic(greeting) if lang == "sr" else greeting
        text = f"{greeting} {text[:1].lower()}{text[1:]}"
    if rng.random() < CITY_MENTIONED:
        city = to_serbian_cyrillic(city) if lang == "sr" else city
        text = f"{text} ({city})" if greeted or rng.random() < 0.5 else f"{city}: {text}"
    if rng.random() < CASUAL and lang not in ("sr", "mk"):
        text = _casual(text)
    return text


def _city(spelled: dict[str, dict[str, str]], city: str, lang: str) -> str:
    source = "sr-Latn" if lang == "sr" else lang
    return spelled.get(city, {}).get(source, city)


def _answer(
    rng: random.Random, aspect: dict[str, Any], service: _Service, lang: str, city: str
) -> str:
    source = "sr-Latn" if lang == "sr" else lang
    values = {
        "city": city,
        "fee": str(rng.choice((5, 8, 10, 15, 20, 25, 30, 40, 50, 80))),
        "days": str(rng.choice((3, 5, 8, 12, 15, 24, 30, 60))),
        "office": str(rng.randint(1, 24)),
        "phone": f"0{rng.randint(30, 89)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
        "hours": rng.choice(("8-16", "7-15", "8-15", "7:30-15:30")),
    }
    return _fill(aspect["answer"][source], service, lang, **values)


def distractor_entries(size: int = BASE, seed: int = SEED) -> list[Entry]:
    """``size`` municipal-service entries, the same ones for the same seed. Up to ``BASE``,
    a smaller base is part of the larger one (a fair sample of it: its first entries in
    a shuffled order), so that vectors cached for one serve the other."""
    if size <= BASE:
        entries = _entries(BASE, seed)
        random.Random(_ORDER_SEED).shuffle(entries)
        return sorted(entries[:size], key=lambda e: e.id)
    return _entries(size, seed)


def _entries(size: int, seed: int) -> list[Entry]:
    """``size`` of the combinations (at most all, 16,086), drawn with ``seed``."""
    aspects: dict[str, dict[str, Any]] = _load("aspects.yaml")
    places = _load("places.yaml")
    cities: dict[str, str] = places["cities"]
    spelled: dict[str, dict[str, str]] = places["city_names"]
    greetings: dict[str, list[str]] = places["greetings"]
    combinations = [
        (city, service, aspect_id)
        for city in cities
        for service in _services()
        for aspect_id, aspect in aspects.items()
        if service.kind in aspect["kinds"]
    ]
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(combinations)), min(size, len(combinations))))
    entries = []
    for number in chosen:
        city, service, aspect_id = combinations[number]
        aspect = aspects[aspect_id]
        home = cities[city]
        # Each entry draws from its own generator, so that its text does not depend on
        # which other entries were drawn.
        own = random.Random(f"{seed}:{city}:{service.id}:{aspect_id}")
        others = [lang for lang in LANGUAGES if lang != home]
        languages = [home, *own.sample(others, PHRASINGS - 1)]
        phrasings = tuple(
            _phrasing(own, aspect, service, lang, _city(spelled, city, lang), greetings)
            for lang in languages
        )
        answer_lang = "en" if own.random() < ENGLISH_ANSWER else home
        title_lang = "sr-Latn" if answer_lang == "sr" else answer_lang
        title = _fill(f"{{Name}} – {aspect['title'][title_lang]}", service, answer_lang)
        title = _capitalised(title.removeprefix("The "))
        entries.append(
            Entry(
                id=f"{_slug(city)}-{service.id}-{aspect_id}",
                title=f"{city}: {title}",
                questions=phrasings,
                body=_answer(own, aspect, service, answer_lang, city),
                lang=answer_lang,
                city=city,
                topics=(f"municipal-{service.kind}",),
            )
        )
    return entries


def write_entries(entries: list[Entry], folder: Path) -> None:
    """The entries as knowledge files (``helpdesk kb import`` reads them)."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        front = {
            "id": entry.id,
            "title": entry.title,
            "questions": list(entry.questions),
            "topics": list(entry.topics),
            "lang": entry.lang,
            "city": entry.city,
        }
        text = "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
        (folder / f"{entry.id}.md").write_text(f"{text}---\n{entry.body}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--size", type=int, default=10_000)
    args = parser.parse_args()
    entries = distractor_entries(args.size)
    write_entries(entries, args.folder)
    print(f"{len(entries)} entries written to {args.folder}")


if __name__ == "__main__":
    main()
