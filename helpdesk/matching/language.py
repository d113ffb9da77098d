"""A cheap guess at the language of a question, from its script and a few telltale words.

Good enough to tell the region's languages apart for routing and replies; the
person's own languages break ties. (A statistical detector can replace this
without touching callers.)
"""

import re
import unicodedata

__all__ = ["guess_language", "is_cyrillic"]

_WORD = re.compile(r"\w+")

# Short function words that are frequent in one language and rare in the others.
_MARKERS: dict[str, frozenset[str]] = {
    code: frozenset(words.split())
    for code, words in {
        "en": "the how what is are and we our do can which who should with for to of",
        "bs": "kako sta šta što da li je su se za u iz smo trebamo možemo mozemo koji koja "
        "koje ili ali opština opstina općina opcina grad",
        "sr": "шта ли је су у из смо који која које можемо ће није",
        "mk": "што дали во ние вие кој која кое кои ќе сме можеме нема",
        "sq": "si të te në ne për per çfarë cfare është eshte dhe që qe mund ka nga një nje",
        "fr": "comment quoi est les des une le la nous pour dans avec que qui pouvons faut",
    }.items()
}
_CYRILLIC_ONLY = {"mk": set("ѓќѕ"), "sr": set("ђћ")}
_LATIN_LETTERS = {"sq": set("ëç"), "bs": set("čćšžđ"), "fr": set("éèêàùâîôœ")}


def is_cyrillic(text: str) -> bool:
    """Mostly Cyrillic letters."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    cyrillic = sum(1 for ch in letters if "CYRILLIC" in unicodedata.name(ch, ""))
    return cyrillic * 2 > len(letters)


def guess_language(text: str, known: tuple[str, ...] = ()) -> str | None:
    """The most likely of en, bs, sr, mk, sq, fr; a BCMS guess becomes the person's own variant.

    ``known`` are the languages the writer is known to use, best first.
    """
    lowered = text.casefold()
    words = _WORD.findall(lowered)
    cyrillic = is_cyrillic(text)
    candidates = ("sr", "mk") if cyrillic else ("en", "bs", "sq", "fr")
    letters = _CYRILLIC_ONLY if cyrillic else _LATIN_LETTERS
    scores = dict.fromkeys(candidates, 0.0)
    for code in candidates:
        scores[code] += sum(1 for w in words if w in _MARKERS[code])
        scores[code] += 2 * any(ch in lowered for ch in letters.get(code, ()))
    if cyrillic:
        # First person plural: Macedonian -ме (основаме), Serbian -мо (оснујемо).
        scores["mk"] += 0.5 * sum(1 for w in words if len(w) > 3 and w.endswith("ме"))
        scores["sr"] += 0.5 * sum(1 for w in words if len(w) > 3 and w.endswith("мо"))
        # Macedonian definite articles: советот, младите.
        scores["mk"] += 0.5 * sum(1 for w in words if len(w) > 4 and w.endswith(("от", "ите")))
    best = max(candidates, key=lambda code: scores[code])
    if scores[best] == 0:
        return known[0] if known else ("sr" if cyrillic else None)
    if best in ("bs", "sr"):
        # Bosnian, Croatian, Serbian and Montenegrin share these words: keep the writer's own.
        own = next((k for k in known if k.split("-")[0] in ("bs", "hr", "sr", "cnr")), None)
        if own is not None and not (cyrillic and own.split("-")[0] != "sr"):
            return own
    return best
