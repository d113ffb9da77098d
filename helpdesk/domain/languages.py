"""Language codes as the helpdesk uses them.

Bosnian, Croatian, Serbian and Montenegrin are one pluricentric language: an
official writing in one is understood by an expert writing in another, so
routing treats them as one group.
"""

import re

__all__ = [
    "SUPPORTED_LANGUAGES",
    "base_language",
    "closest_languages",
    "language_group",
    "normalize_language_code",
    "shares_language",
]

# The languages the bot speaks (issue: translated conversation); order is display order.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "bs", "hr", "sr", "sr-Latn", "cnr", "mk", "sq", "fr")

_BCMS = frozenset({"bs", "hr", "sr", "cnr", "sh", "me"})
_CODE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


def normalize_language_code(code: str) -> str | None:
    """Return a canonical BCP 47-like code (``sr-Latn``), or None if it is not a language code."""
    code = code.strip()
    if not _CODE.match(code):
        return None
    parts = code.replace("_", "-").split("-")
    base = parts[0].lower()
    if base == "me":  # the country code, often used for Montenegrin
        base = "cnr"
    rest = []
    for part in parts[1:]:
        if len(part) == 4:
            rest.append(part.title())  # script subtag: Latn, Cyrl
        elif len(part) == 2:
            rest.append(part.upper())  # region subtag
        else:
            rest.append(part.lower())
    return "-".join([base, *rest])


def base_language(code: str) -> str:
    """``sr-Latn`` → ``sr``; unknown shapes are returned lower-cased."""
    return code.replace("_", "-").split("-")[0].lower()


def language_group(code: str) -> str:
    """The group within which people understand each other (``bs``, ``sr`` → ``bcms``)."""
    base = base_language(code)
    return "bcms" if base in _BCMS else base


# For a reader of each language, the others they read best, best first: the standards of
# one language before the rest, the same script before the other (a reader of Serbian
# Cyrillic reads Serbian Latin; of Montenegrin, Serbian ijekavian words read closest).
_CLOSEST = {
    "bs": ("bs", "cnr", "hr", "sr-Latn", "sr"),
    "hr": ("hr", "bs", "cnr", "sr-Latn", "sr"),
    "cnr": ("cnr", "bs", "sr-Latn", "hr", "sr"),
    "sr-Latn": ("sr-Latn", "cnr", "bs", "hr", "sr"),
    "sr": ("sr", "sr-Latn", "cnr", "bs", "hr", "mk"),
    "mk": ("mk", "sr", "sr-Latn"),
}


def closest_languages(code: str | None) -> tuple[str, ...]:
    """The languages a reader of ``code`` reads, best first (``code`` itself first)."""
    if not code:
        return ()
    close = _CLOSEST.get(code)
    if close is not None:
        return close
    base = base_language(code)
    return (code, base) if base != code else (code,)


def shares_language(first: tuple[str, ...], second: tuple[str, ...]) -> bool:
    """True when people speaking ``first`` and ``second`` understand each other."""
    return bool({language_group(c) for c in first} & {language_group(c) for c in second})
