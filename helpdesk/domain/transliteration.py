"""Serbian Latin → Serbian Cyrillic: one spelling, two scripts.

Serbian is written in both scripts, letter for letter (lj → љ, nj → њ, dž → џ), so the
knowledge base keeps Serbian in Latin script only and the Cyrillic is made from it
here, the same way every time. What is not Serbian stays as written: web addresses,
code, chat commands (``/ask``), words with letters Serbian does not have (q, w, x, y),
and names kept in their own language (the network's name, "Strong Cities").
"""

import re

__all__ = ["KEPT_IN_LATIN", "to_serbian_cyrillic"]

KEPT_IN_LATIN = ("Strong Cities",)

_LETTERS = {
    "a": "а", "b": "б", "c": "ц", "č": "ч", "ć": "ћ", "d": "д", "đ": "ђ", "e": "е",
    "f": "ф", "g": "г", "h": "х", "i": "и", "j": "ј", "k": "к", "l": "л", "m": "м",
    "n": "н", "o": "о", "p": "п", "r": "р", "s": "с", "š": "ш", "t": "т", "u": "у",
    "v": "в", "z": "з", "ž": "ж",
}  # fmt: skip
_DIGRAPHS = {"lj": "љ", "nj": "њ", "dž": "џ"}
# Where two letters meet across parts of a word and are not one sound: nad-živeti,
# in-jekcija. Rare in what a helpdesk writes; these are the ones dictionaries list.
_SPLIT = ("nadživ", "odžal", "odživ", "podžanr", "injekc", "konjuga", "konjunkt", "tanjug")
# Runs that stay as they are: code, links, addresses, commands, kept names, and words
# with letters outside Serbian's alphabet.
_KEEP = re.compile(
    r"```.*?```|`[^`]*`"  # code
    r"|\]\([^)]*\)"  # a Markdown link's target
    r"|(?:https?://|www\.)\S+|\S+@\S+\.\w+"  # addresses
    r"|(?<![\w/])/[A-Za-z][A-Za-z0-9_]*"  # chat commands
    r"|" + "|".join(re.escape(name) for name in KEPT_IN_LATIN) + r"|\b[\w-]*[qwxyQWXY][\w-]*\b",
    re.S,
)
_WORD = re.compile(r"[^\W\d_]+")


def _word(word: str) -> str:
    lower = word.casefold()
    split = any(lower.startswith(prefix) for prefix in _SPLIT)
    out: list[str] = []
    i = 0
    while i < len(word):
        pair = lower[i : i + 2]
        if not split and pair in _DIGRAPHS:
            digraph = _DIGRAPHS[pair]
            # "Lj" and "LJ" both begin with a capital: so does the Cyrillic letter.
            out.append(digraph.upper() if word[i].isupper() else digraph)
            i += 2
            continue
        char = word[i]
        letter = _LETTERS.get(char.casefold())
        if letter is None:
            out.append(char)
        else:
            out.append(letter.upper() if char.isupper() else letter)
        i += 1
    return "".join(out)


def _plain(text: str) -> str:
    return _WORD.sub(lambda m: _word(m.group()), text)


def to_serbian_cyrillic(text: str) -> str:
    """Serbian Latin text (Markdown allowed) in Serbian Cyrillic."""
    out: list[str] = []
    position = 0
    for kept in _KEEP.finditer(text):
        out.append(_plain(text[position : kept.start()]))
        out.append(kept.group())
        position = kept.end()
    out.append(_plain(text[position:]))
    return "".join(out)
