"""Which language a message is in, among the nine the bot speaks (lingua for the family,
telling words and the writer's own variant for the Serbo-Croatian standards)."""

import pytest

from helpdesk.matching.language import LanguageIdentifier, bcms_variant


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("How do we set up a local safety council in our municipality?", "en"),
        ("Comment mettre en place un conseil local de sécurité ?", "fr"),
        ("Si të krijojmë një Këshill Vendor të Sigurisë në bashkinë tonë?", "sq"),
        ("Како да основаме локален совет за безбедност во нашата општина?", "mk"),
        ("Како да оснујемо локални савет за безбедност у нашој општини?", "sr"),
        ("Kako da osnujemo lokalni savet za bezbednost u našoj opštini?", "sr-Latn"),
        ("Tko bi trebao sudjelovati u radu vijeća i koliko tjedana to traje?", "hr"),
        ("Đe da nađemo novac za savjet? Nijesu nam dali ništa iz budžeta.", "cnr"),
        ("Koliko hiljada KM treba za historijski projekat sedmicu dana?", "bs"),
    ],
)
def test_each_language_from_one_sentence(
    identifier: LanguageIdentifier, text: str, language: str
) -> None:
    assert identifier.identify(text) == language


@pytest.mark.parametrize("text", ["1", "ok", "hvala", "👍", "/tickets", "", "  "])
def test_too_short_to_tell(identifier: LanguageIdentifier, text: str) -> None:
    assert identifier.identify(text) is None


def test_without_telling_words_the_writers_own_variant_decides() -> None:
    plain = "Kako da uključimo mlade u prevenciju ekstremizma u gradu?"
    assert bcms_variant(plain, ("hr",)) == "hr"
    assert bcms_variant(plain, ("sr",)) == "sr-Latn"  # Serbian, in the script written
    assert bcms_variant(plain, ("en",), country="Montenegro") == "cnr"
    assert bcms_variant(plain, (), country="Bosnia and Herzegovina") == "bs"
    # A telling word outweighs the preference: ekavian is Serbian.
    assert bcms_variant("Kako da uključimo decu u savet?", ("hr",)) == "sr-Latn"
