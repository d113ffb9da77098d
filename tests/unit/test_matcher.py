import pytest

from helpdesk.domain.knowledge import Entry, EntryStatus
from helpdesk.domain.questions import Action, Candidate
from helpdesk.matching import MatchPolicy, decide, has_content, suggestions
from helpdesk.matching.fuzzy import FuzzyMatcher
from tests.support import ENTRIES


@pytest.fixture
def matcher() -> FuzzyMatcher:
    return FuzzyMatcher(ENTRIES)


@pytest.mark.parametrize(
    "question",
    [
        "How do we set up a local safety council?",
        "how do we set up a local safety council",  # case and punctuation
        "How do we set up a locl safety councel?",  # typos
        "Kako osnovati lokalni savjet za bezbjednost?",
        "kako osnovati lokalni savjet za bezbjednost",  # no diacritics needed here either
        "Како основати локални савјет за безбједност?",  # Serbian Cyrillic of a Latin phrasing
        "Kako da osnovame lokalen sovet za bezbednost",  # Macedonian typed in Latin
        "Si të krijojmë një Këshill Vendor të Sigurisë?",
        "si te krijojme nje keshill vendor te sigurise",  # Albanian without ë
    ],
)
def test_a_phrasing_in_any_script_or_spelling_is_answered(
    matcher: FuzzyMatcher, question: str
) -> None:
    match = matcher.match(question)
    assert match.action is Action.ANSWER, match
    assert match.best is not None and match.best.entry_id == "lsc-setup"


def test_greetings_around_a_question_do_not_stop_an_answer(matcher: FuzzyMatcher) -> None:
    match = matcher.match(
        "Hello! We are a small municipality. How do we set up a local safety council? Thanks"
    )
    assert match.best is not None and match.best.entry_id == "lsc-setup"
    assert match.action is Action.ANSWER


@pytest.mark.parametrize(
    "question",
    [
        "How do I get a building permit for my house?",
        "When is the garbage collected in our street?",
        "Koliko košta parking u centru grada?",
        "asdkjh qwe zxcmnb",
    ],
)
def test_off_topic_questions_are_escalated(matcher: FuzzyMatcher, question: str) -> None:
    match = matcher.match(question)
    assert match.action is Action.ESCALATE, match
    assert match.score < matcher.policy.suggest_at


def test_scores_are_0_to_100_best_first(matcher: FuzzyMatcher) -> None:
    match = matcher.match("young people council")
    scores = [c.score for c in match.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 100 for s in scores)


def test_an_ambiguous_question_gets_suggestions_not_an_answer() -> None:
    twins = [
        Entry(
            id="a", title="Youth council", questions=("How do we run a youth council?",), body="A"
        ),
        Entry(id="b", title="Youth club", questions=("How do we run a youth club?",), body="B"),
    ]
    match = FuzzyMatcher(twins).match("how do we run a youth")
    assert match.action is Action.SUGGEST
    assert {c.entry_id for c in match.candidates} == {"a", "b"}


def test_only_published_entries_are_matched() -> None:
    draft = Entry(
        id="draft",
        title="Drafted",
        questions=("How do we set up a local safety council?",),
        body="",
        status=EntryStatus.DRAFT,
    )
    matcher = FuzzyMatcher([draft])
    assert matcher.size == 0
    assert matcher.match("How do we set up a local safety council?").action is Action.ESCALATE


def test_an_empty_knowledge_base_escalates_everything() -> None:
    match = FuzzyMatcher([]).match("anything at all")
    assert match.action is Action.ESCALATE
    assert match.candidates == ()


def test_thresholds_come_from_the_policy() -> None:
    question = "How do we set up a local safety council?"
    strict = FuzzyMatcher(ENTRIES, MatchPolicy(answer_at=100, suggest_at=100, margin=0))
    assert strict.match(question).action in (Action.ESCALATE, Action.ANSWER)
    lenient = FuzzyMatcher(ENTRIES, MatchPolicy(answer_at=10, suggest_at=5, margin=0))
    assert lenient.match("safety").action is Action.ANSWER


def c(entry_id: str, score: float) -> Candidate:
    return Candidate(entry_id, entry_id, score)


POLICY = MatchPolicy(answer_at=80, suggest_at=50, margin=10)


@pytest.mark.parametrize(
    ("candidates", "action"),
    [
        ((), Action.ESCALATE),
        ((c("a", 49.9),), Action.ESCALATE),
        ((c("a", 50),), Action.SUGGEST),
        ((c("a", 79.9),), Action.SUGGEST),
        ((c("a", 80),), Action.ANSWER),
        ((c("a", 95), c("b", 85.1)), Action.SUGGEST),  # too close to call
        ((c("a", 95), c("b", 85)), Action.ANSWER),  # exactly the margin
        ((c("a", 95), c("b", 20)), Action.ANSWER),
    ],
)
def test_decide(candidates: tuple[Candidate, ...], action: Action) -> None:
    assert decide(candidates, POLICY) is action


def test_suggestions_are_at_most_three_above_the_floor() -> None:
    offered = suggestions((c("a", 70), c("b", 60), c("c", 55), c("d", 52), c("e", 10)), POLICY)
    assert [s.entry_id for s in offered] == ["a", "b", "c"]


def test_policy_rejects_inconsistent_thresholds() -> None:
    with pytest.raises(ValueError):
        MatchPolicy(answer_at=40, suggest_at=60)


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("Hello!", False),
        ("Thanks a lot", False),
        ("Dobar dan, hvala", False),
        ("Здраво", False),
        ("Faleminderit", False),
        ("youth", True),
        ("Kako uključiti mlade?", True),
    ],
)
def test_has_content(text: str, content: bool) -> None:
    assert has_content(text) is content


def test_phrasings_touched_are_counted_like_numpy_unique() -> None:
    # The lexical index dedupes postings by counting, not sorting (for speed); it must
    # give exactly what np.unique does, or scores would go to the wrong phrasings.
    import numpy as np

    from helpdesk.matching.lexical import _distinct

    rng = np.random.default_rng(3)
    for universe in (1, 7, 1000):
        ids = rng.integers(0, universe, size=rng.integers(0, 3000))
        distinct, where = _distinct(ids, universe)
        expected, inverse = np.unique(ids, return_inverse=True)
        assert distinct.tolist() == expected.tolist()
        assert where.tolist() == inverse.reshape(-1).tolist()
