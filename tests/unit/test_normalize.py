import pytest

from helpdesk.matching.normalize import fold_diacritics, normalize_text, transliterate_cyrillic


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        # Serbian Cyrillic and its official Latin alphabet
        ("Како основати савет", "Kako osnovati savet"),
        ("безбедност", "bezbednost"),
        ("Чачак", "Čačak"),
        ("ћерка", "ćerka"),
        ("Ђорђе", "Đorđe"),
        ("џамија", "džamija"),
        ("љубав њега", "ljubav njega"),
        ("шума жена", "šuma žena"),
        ("ЉУБЉАНА", "LjUBLjANA"),
        # Macedonian
        ("ѓавол", "gjavol"),
        ("ќерка", "kjerka"),
        ("ѕвезда", "dzvezda"),
        ("локален совет за безбедност", "lokalen sovet za bezbednost"),
    ],
)
def test_cyrillic_transliterates_to_the_official_latin(cyrillic: str, latin: str) -> None:
    assert transliterate_cyrillic(cyrillic) == latin


@pytest.mark.parametrize(
    ("cyrillic", "latin_typed"),
    [
        ("Шта је локални савет за безбедност?", "sta je lokalni savet za bezbednost"),
        ("Ћуприја", "cuprija"),
        ("Чачак", "cacak"),
        ("Ђорђевић", "djordjevic"),
        ("Како да ги вклучиме младите?", "kako da gi vklucime mladite"),
    ],
)
def test_cyrillic_and_latin_typed_without_diacritics_meet(cyrillic: str, latin_typed: str) -> None:
    assert normalize_text(cyrillic) == normalize_text(latin_typed)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("čćšžđ", "ccszdj"),
        ("ČĆŠŽĐ", "CCSZDj"),
        ("Shkodër, çfarë", "Shkoder, cfare"),
        ("sécurité à côté", "securite a cote"),
        ("Brčko", "Brcko"),
    ],
)
def test_diacritics_fold(text: str, folded: str) -> None:
    assert fold_diacritics(text) == folded


def test_latin_with_and_without_diacritics_meet() -> None:
    assert normalize_text("Općina Brčko, savjet za sigurnost") == normalize_text(
        "opcina brcko savjet za sigurnost"
    )


def test_case_punctuation_and_spacing_are_ignored() -> None:
    assert normalize_text("  How DO we — set up… a council?!  ") == "how do we set up a council"


def test_other_scripts_are_kept_not_dropped() -> None:
    assert normalize_text("مجلس الأمن") != ""
    assert normalize_text("Ελλάδα") == "ελλαδα"


def test_empty_and_symbols_only() -> None:
    assert normalize_text("") == ""
    assert normalize_text("?!… 🙂 ***") == ""
