"""Which of the languages the bot speaks a message is written in.

The region's languages are told apart in two steps:

1. The family, with a statistical identifier whose models ship inside its package
   (lingua, in its low-accuracy mode: a third of a second to load, about 30 MB, a fraction
   of a millisecond per message): English, French, Albanian, Macedonian, Serbian in
   Cyrillic, or one of the four standards of the Serbo-Croatian family written in Latin
   script (Bosnian, Croatian, Serbian, Montenegrin).
2. Among those four, which share almost all of their words, the words that set them
   apart: ekavian Serbian (bezbednost, savet, mesto), Croatian (tko, tisuća, tjedan,
   obitelj, "možemo li"), Montenegrin (đe, nijesu), Bosnian (historija, hiljada,
   sedmica). One sentence often holds none of them: then the writer's own variant
   decides (their last one, their chat app's, their invitation's, their country's).

A message too short to tell (a number, "ok", a greeting of one word) gets no language,
and the caller keeps the person's last one.
"""

import re
import threading
import unicodedata
from collections.abc import Iterable
from typing import Any

from helpdesk.domain.languages import base_language
from helpdesk.matching.normalize import normalize_text

__all__ = ["BCMS_LATIN", "LanguageIdentifier", "guess_language", "is_cyrillic"]

BCMS_LATIN = ("bs", "hr", "sr-Latn", "cnr")
# The variant a country writes in Latin script, when nothing else tells.
_COUNTRY_VARIANT = {
    "bosnia and herzegovina": "bs",
    "bosnia": "bs",
    "bih": "bs",
    "ba": "bs",
    "croatia": "hr",
    "hr": "hr",
    "serbia": "sr-Latn",
    "rs": "sr-Latn",
    "montenegro": "cnr",
    "me": "cnr",
}
_MIN_LETTERS = 8
_MIN_WORDS = 2

# Word beginnings (in folded spelling: č → c, đ → dj) that set the standards apart.
# Serbian as written in Serbia is ekavian (mesto, vreme, savet); the others ijekavian
# (mjesto, vrijeme, savjet): one such word decides between them. Among the ijekavian
# ones, Croatian, Montenegrin and Bosnian words (weight 2: one is enough), and words
# two or three of them share (weight 1: they only lean).
_EKAVIAN = (
    r"bezbedn|savet|mest[aiou]?\b|dete\b|dec[aeiu]\b|vreme|uvek|primer|izvestaj|obavest|"
    r"nedelj|odeljenj|predsedni|zamenik|svet\b|lep[aiou]?\b|belez|celo|ceo\b|razumev|"
    r"mesec|deljenj|delimo|htel|primet|smem|smete|obelez|procen|pover|rasvet|uspev|"
    r"mer[aeiu]\b|merama|posle\b|pre\b|rec\b|pesm|osec|podel|sused|let[on]j|"
    r"pretnj|promen|deli\b|veru|veri\b|veruj|ver[aeu]\b|verske|umest|premest|smest"
)
_IJEKAVIAN = (
    r"bezbjedn|savjet|mjest|dijete|djec|vrijeme|uvijek|primjer|izvjest|izvjesc|obavjest|"
    r"nedjelj|odjeljenj|predsjedni|zamjenik|svijet|lijep|bilje(?:z|s)|cijel|razumij|"
    r"mjesec|dijel|djelimo|htjel|primijet|smij|obiljez|procijen|povjer|rasvjet|uspijev|"
    r"mjer|poslije|prije\b|rijec|pjesm|osjet|podjel|susjed|ljet|prijet|promijen|"
    r"vjer|vjeruj|tijek|vijec|mjsto|mjes"
)
_VARIANT_MARKERS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    (_EKAVIAN, ("sr-Latn",), 2),
    (_IJEKAVIAN, ("bs", "hr", "cnr"), 2),
    # Croatian.
    (
        r"tko\b|nitko|netko|tisuc|tjed[na]|obitelj|izvjesc|tijekom|sudjel|surad|povijest|"
        r"tajnist|opci\b|jucer|tocno|kolovoz|rujan|lipanj|srpanj|studeni|prosinac|sijecanj|"
        r"veljac|ozujak|travanj|svibanj|listopad|skupin|upisnik",
        ("hr",),
        2,
    ),
    # A question with "li" after its verb reads Croatian, but others write it too.
    (r"\w+mo li\b|\w+te li\b|\w+ju li\b|jeste li|\w+s li\b", ("hr",), 1),
    # Montenegrin.
    (r"dje\b|nijes|sjutra|sjed|obezbijed|bezbjedn", ("cnr",), 2),
    # Bosnian.
    (r"historij|hiljad|sedmic|lahk|kahv|hudoz", ("bs",), 2),
    # Leaning only.
    (r"opcin|vijec|sigurnost|\bsto\b", ("bs", "hr"), 1),
    (r"opstin|saradnj|\bsta\b|\bko\b|\bda li\b|tacno|juce\b", ("bs", "cnr", "sr-Latn"), 1),
    (r"opstin|juce\b", ("cnr", "sr-Latn"), 1),
)
_COMPILED = tuple((re.compile(r"\b(?:" + p + ")"), v, w) for p, v, w in _VARIANT_MARKERS)

# Cheap telltales for the fallback guess when the identifier is not installed.
_CYRILLIC_ONLY = {"mk": set("ѓќѕ"), "sr": set("ђћ")}


def is_cyrillic(text: str) -> bool:
    """Mostly Cyrillic letters."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    cyrillic = sum(1 for ch in letters if "CYRILLIC" in unicodedata.name(ch, ""))
    return cyrillic * 2 > len(letters)


def _says_enough(text: str) -> bool:
    letters = sum(1 for ch in text if ch.isalpha())
    return letters >= _MIN_LETTERS and len(text.split()) >= _MIN_WORDS


def preferred_variant(preferred: Iterable[str], country: str | None = None) -> str | None:
    """The writer's own Latin-script variant of the Serbo-Croatian family, if known."""
    for code in preferred:
        if code in BCMS_LATIN:
            return code
        if base_language(code) in ("bs", "hr", "cnr"):
            return base_language(code)
        if code == "sr":  # Serbian chosen in Cyrillic: in Latin letters, the same standard
            return "sr-Latn"
    return _COUNTRY_VARIANT.get((country or "").strip().casefold())


def bcms_variant(text: str, preferred: Iterable[str] = (), country: str | None = None) -> str:
    """Which of Bosnian, Croatian, Serbian (Latin) or Montenegrin a text is written in."""
    folded = normalize_text(text)
    scores = dict.fromkeys(BCMS_LATIN, 0)
    for pattern, variants, weight in _COMPILED:
        hits = len(pattern.findall(folded))
        for variant in variants:
            scores[variant] += weight * hits
    own = preferred_variant(preferred, country)
    best = max(scores.values())
    leaders = [v for v in BCMS_LATIN if scores[v] == best]
    # The writer's own variant holds unless a telling word (weight 2) says otherwise.
    if own is not None and best - scores[own] < 2:
        return own
    if len(leaders) == 1 and best >= 2:
        return leaders[0]
    return own or leaders[0]


class LanguageIdentifier:
    """Identifies a message's language among the bot's; loads its models on first use
    (``load`` does it ahead, off the event loop)."""

    def __init__(self) -> None:
        self._detector: Any = None
        self._names: dict[Any, str] = {}
        self._lock = threading.Lock()
        self._missing = False

    def load(self) -> bool:
        """Build the detector; False when lingua is not installed (then a cheap guess)."""
        with self._lock:
            if self._detector is not None or self._missing:
                return not self._missing
            try:
                from lingua import Language, LanguageDetectorBuilder
            except ImportError:
                self._missing = True
                return False
            self._names = {
                Language.ENGLISH: "en",
                Language.FRENCH: "fr",
                Language.ALBANIAN: "sq",
                Language.MACEDONIAN: "mk",
                Language.SERBIAN: "sr",
                Language.BOSNIAN: "bs",
                Language.CROATIAN: "hr",
            }
            self._detector = (
                LanguageDetectorBuilder.from_languages(*self._names)
                .with_low_accuracy_mode()
                .build()
            )
            return True

    def identify(
        self, text: str, preferred: Iterable[str] = (), country: str | None = None
    ) -> str | None:
        """The language of ``text`` as a code the bot speaks, or None when the text is too
        short to tell. ``preferred`` are the writer's languages, most likely first, and
        ``country`` theirs: they decide between the variants of one language."""
        preferred = tuple(preferred)
        if not _says_enough(text):
            return None
        cyrillic = is_cyrillic(text)
        if not self.load():
            return guess_language(text, preferred)
        found = self._detector.detect_language_of(text)
        family = self._names.get(found) if found is not None else None
        if cyrillic:
            # Only Serbian and Macedonian are written in Cyrillic here.
            return family if family in ("sr", "mk") else _cyrillic_guess(text)
        if family in (None, "sr", "bs", "hr", "mk"):
            if family is None and not _has_bcms_letters(text):
                return None
            return bcms_variant(text, preferred, country)
        return family


def _has_bcms_letters(text: str) -> bool:
    return any(ch in "čćšžđČĆŠŽĐ" for ch in text)


def _cyrillic_guess(text: str) -> str:
    letters = set(text.casefold())
    if letters & _CYRILLIC_ONLY["mk"]:
        return "mk"
    return "sr"


# -- the cheap guess, without the identifier ------------------------------------------------

_WORD = re.compile(r"\w+")
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
_LATIN_LETTERS = {"sq": set("ëç"), "bs": set("čćšžđ"), "fr": set("éèêàùâîôœ")}


def guess_language(text: str, known: tuple[str, ...] = ()) -> str | None:
    """A cheap guess from telltale words and letters, for when the identifier is not
    installed: the most likely of en, a Serbo-Croatian variant, sr, mk, sq, fr."""
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
        scores["mk"] += 0.5 * sum(1 for w in words if len(w) > 3 and w.endswith("ме"))
        scores["sr"] += 0.5 * sum(1 for w in words if len(w) > 3 and w.endswith("мо"))
        scores["mk"] += 0.5 * sum(1 for w in words if len(w) > 4 and w.endswith(("от", "ите")))
    best = max(candidates, key=lambda code: scores[code])
    if scores[best] == 0:
        return known[0] if known else ("sr" if cyrillic else None)
    if best == "bs":
        return bcms_variant(text, known)
    return best
