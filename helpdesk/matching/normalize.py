"""Normalise what people type so that the same words match in any script or spelling.

Officials in the region write Serbian and Macedonian in Cyrillic or in Latin,
often without č ć š ž đ. We transliterate Cyrillic with the Serbian and
Macedonian tables (not unidecode, whose Russian-style output turns ч into "ch"
while č folds to "c", so the two scripts would stop matching), then fold
diacritics, case and punctuation.
"""

import re
import unicodedata

__all__ = ["fold_diacritics", "normalize_text", "tokens", "transliterate_cyrillic"]

# Serbian and Macedonian Cyrillic to Latin, as the official Latin alphabets write them,
# before diacritics are folded (ч → č → c, matching a Latin č typed as c).
_CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "ђ": "đ",
    "ѓ": "gj",
    "е": "e",
    "ж": "ž",
    "з": "z",
    "ѕ": "dz",
    "и": "i",
    "ј": "j",
    "к": "k",
    "л": "l",
    "љ": "lj",
    "м": "m",
    "н": "n",
    "њ": "nj",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "ћ": "ć",
    "ќ": "kj",
    "у": "u",
    "ф": "f",
    "х": "h",
    "ц": "c",
    "ч": "č",
    "џ": "dž",
    "ш": "š",
    # Letters of other Cyrillic alphabets, so that Russian, Bulgarian or Ukrainian
    # keyboards still produce something comparable.
    "й": "j",
    "ы": "y",
    "э": "e",
    "ю": "ju",
    "я": "ja",
    "ё": "e",
    "щ": "št",
    "ъ": "",
    "ь": "",
    "є": "je",
    "і": "i",
    "ї": "ji",
    "ґ": "g",
    "ў": "u",
}
_CYRILLIC_TABLE = str.maketrans(
    {**_CYRILLIC, **{k.upper(): v.capitalize() for k, v in _CYRILLIC.items()}}
)

# Letters that Unicode decomposition does not split into base + mark.
_UNDECOMPOSABLE = str.maketrans(
    {
        "đ": "dj",
        "Đ": "Dj",
        "ß": "ss",
        "æ": "ae",
        "Æ": "Ae",
        "œ": "oe",
        "Œ": "Oe",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "ı": "i",
        "ħ": "h",
        "þ": "th",
        "ð": "d",
    }
)

_NON_WORD = re.compile(r"[^\w]+|_")
_SPACES = re.compile(r"\s+")


def transliterate_cyrillic(text: str) -> str:
    """Serbian/Macedonian Cyrillic → Latin with diacritics (ч → č, ђ → đ, ќ → kj)."""
    return text.translate(_CYRILLIC_TABLE)


def fold_diacritics(text: str) -> str:
    """č ć → c, š → s, ž → z, đ → dj, ë → e, é → e; other scripts are left alone."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_text(text: str) -> str:
    """The form every question and phrasing is compared in: Latin, no diacritics, lower case,
    words separated by single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = fold_diacritics(transliterate_cyrillic(text)).casefold()
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def tokens(normalized: str) -> list[str]:
    """The words of an already normalised text."""
    return normalized.split()
