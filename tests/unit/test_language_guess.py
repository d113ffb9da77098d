import pytest

from helpdesk.matching.language import guess_language, is_cyrillic


@pytest.mark.parametrize(
    ("text", "known", "expected"),
    [
        ("How do we set up a local safety council?", (), "en"),
        ("Kako da osnujemo savjet za bezbjednost?", (), "cnr"),  # bezbjednost: Montenegrin
        ("Kako da osnujemo vijeće za sigurnost?", ("hr", "en"), "hr"),
        ("Kako da osnujemo savet?", ("sr-Latn",), "sr-Latn"),
        ("Шта је локални савет и како се оснива?", (), "sr"),
        ("Како да основаме локален совет за безбедност?", (), "mk"),
        ("Како можеме да ги вклучиме младите?", (), "mk"),
        ("Si të krijojmë një këshill vendor?", (), "sq"),
        ("Comment créer un conseil local de sécurité ?", (), "fr"),
        ("Lokalni savjet", ("en",), "en"),  # nothing telling: the person's own language
        ("xyz", (), None),
    ],
)
def test_guess_language(text: str, known: tuple[str, ...], expected: str | None) -> None:
    assert guess_language(text, known) == expected


def test_is_cyrillic() -> None:
    assert is_cyrillic("Како да? ok")
    assert not is_cyrillic("Kako da? ок")
    assert not is_cyrillic("123")
