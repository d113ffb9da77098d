"""An external benchmark no one here wrote: Home Assistant's intent sentences.

``home-assistant-intents`` holds sentence templates per intent and language; ``hassil``
expands them. Each intent becomes a knowledge entry whose phrasings are a few of its
sentences; held-out sentences are the questions. Every question is in scope: keeping
some intents out of the base would make near-twins of the base (turn on / turn off the
light) the out-of-scope questions, which measures the dataset more than the matcher;
out-of-scope questions are measured on the project's own set.

Conditions (see ``conditions``):
- clean: same language, as written;
- noisy: no diacritics and typos (one or two letters dropped, doubled or swapped);
- cyrillic-vs-latin: Serbian Cyrillic questions against a Serbian Latin base;
- en-base-hr-questions: an English base queried in Croatian (cross-lingual).
"""

import random
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from hassil.errors import MissingListError
from hassil.intents import Intents, SlotList, TextSlotList
from hassil.sample import sample_intents

from helpdesk.domain.knowledge import Entry
from helpdesk.services.evaluation import LabelledQuestion

__all__ = ["Dataset", "conditions"]

SEED = 20261123
PHRASINGS_PER_ENTRY = 5
QUESTIONS_PER_INTENT = 6

# Slot values so that templates with {area} or {name} expand; the rest get a placeholder.
_SLOTS = {
    "en": {
        "area": ["kitchen", "living room"],
        "name": ["ceiling lamp", "fan"],
        "floor": ["ground floor"],
    },
    "hr": {
        "area": ["kuhinja", "dnevni boravak"],
        "name": ["stropna lampa", "ventilator"],
        "floor": ["prizemlje"],
    },
    "sr": {
        "area": ["кухиња", "дневна соба"],
        "name": ["лампа", "вентилатор"],
        "floor": ["приземље"],
    },
    "sr-Latn": {
        "area": ["kuhinja", "dnevna soba"],
        "name": ["lampa", "ventilator"],
        "floor": ["prizemlje"],
    },
    "fr": {
        "area": ["cuisine", "salon"],
        "name": ["lampe", "ventilateur"],
        "floor": ["rez-de-chaussée"],
    },
}


@dataclass
class Dataset:
    name: str
    entries: list[Entry]
    questions: list[LabelledQuestion]


def sentences(language: str) -> dict[str, list[str]]:
    """Every intent's expanded sentences in ``language``, deduplicated, in a stable order."""
    import home_assistant_intents

    data = home_assistant_intents.get_intents(language)
    if data is None:
        raise SystemExit(f"home-assistant-intents has no sentences for {language}")
    intents = Intents.from_dict(data)
    lists: dict[str, SlotList] = {
        k: TextSlotList.from_strings(v) for k, v in _SLOTS[language].items()
    }
    while True:
        try:
            samples = list(
                sample_intents(
                    intents, slot_lists=lists, language=language, max_sentences_per_intent=400
                )
            )
            break
        except MissingListError as error:
            missing = re.search(r"\{(\w+)\}", str(error))
            if missing is None:
                raise
            lists[missing.group(1)] = TextSlotList.from_strings([missing.group(1)])
    by_intent: dict[str, list[str]] = defaultdict(list)
    for intent, text in samples:
        text = " ".join(text.split())
        if text not in by_intent[intent]:
            by_intent[intent].append(text)
    return dict(sorted(by_intent.items()))


def _usable(by_intent: dict[str, list[str]]) -> list[str]:
    """Intents with enough sentences for phrasings and held-out questions."""
    return sorted(i for i, s in by_intent.items() if len(s) >= PHRASINGS_PER_ENTRY + 2)


def _entries(
    by_intent: dict[str, list[str]], intents: list[str], language: str, rng: random.Random
) -> tuple[list[Entry], dict[str, list[str]]]:
    entries, held_out = [], {}
    for intent in intents:
        pool = list(by_intent[intent])
        rng.shuffle(pool)
        entries.append(
            Entry(
                id=intent.lower(),
                title=intent,
                questions=tuple(pool[:PHRASINGS_PER_ENTRY]),
                body=f"{intent}.",
                lang=language.split("-")[0],
            )
        )
        held_out[intent] = pool[PHRASINGS_PER_ENTRY:]
    return entries, held_out


def _questions(
    held_out: dict[str, list[str]], language: str, rng: random.Random
) -> list[LabelledQuestion]:
    questions = []
    for intent, pool in held_out.items():
        for text in rng.sample(pool, min(QUESTIONS_PER_INTENT, len(pool))):
            questions.append(LabelledQuestion(text, intent.lower(), language))
    return questions


def _no_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "dj").replace("Đ", "Dj"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _typos(text: str, rng: random.Random) -> str:
    letters = list(text)
    for _ in range(rng.choice((1, 2))):
        positions = [i for i, ch in enumerate(letters) if ch.isalpha()]
        if len(positions) < 4:
            break
        i = rng.choice(positions[1:-1])
        operation = rng.choice(("drop", "double", "swap"))
        if operation == "drop":
            del letters[i]
        elif operation == "double":
            letters.insert(i, letters[i])
        elif i + 1 < len(letters):
            letters[i], letters[i + 1] = letters[i + 1], letters[i]
    return "".join(letters)


def _same_language(language: str, name: str, noisy: bool = False) -> Dataset:
    rng = random.Random(f"{SEED}-{name}")
    by_intent = sentences(language)
    entries, held_out = _entries(by_intent, _usable(by_intent), language, rng)
    questions = _questions(held_out, language, rng)
    if noisy:
        questions = [
            LabelledQuestion(_typos(_no_diacritics(q.question), rng), q.expected, q.lang)
            for q in questions
        ]
    return Dataset(name, entries, questions)


def _crossed(base: str, asked: str, name: str) -> Dataset:
    """A base in one language (or script), questions in another, intents aligned by name."""
    rng = random.Random(f"{SEED}-{name}")
    base_sentences, asked_sentences = sentences(base), sentences(asked)
    shared = {i: s for i, s in base_sentences.items() if i in asked_sentences}
    inside = _usable(shared)
    entries, _ = _entries(shared, inside, base, rng)
    questions = _questions({i: asked_sentences[i] for i in inside}, asked, rng)
    return Dataset(name, entries, questions)


def conditions() -> list[Dataset]:
    """The external benchmark's conditions, built the same way on every run."""
    return [
        *(_same_language(lang, f"clean-{lang}") for lang in ("en", "fr", "hr", "sr", "sr-Latn")),
        _same_language("hr", "noisy-hr", noisy=True),
        _same_language("fr", "noisy-fr", noisy=True),
        _crossed("sr-Latn", "sr", "cyrillic-vs-latin"),
        _crossed("en", "hr", "en-base-hr-questions"),
    ]
