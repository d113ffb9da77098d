"""Serbian Latin → Cyrillic, as the knowledge base's Serbian Cyrillic is made."""

import pytest

from helpdesk.domain.transliteration import to_serbian_cyrillic


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("Ljubljana, NJEGOŠ, džep, Džep", "Љубљана, ЊЕГОШ, џеп, Џеп"),
        ("Lokalni savet za bezbednost", "Локални савет за безбедност"),
        ("Čačak, Ćuprija, Đurđevdan, Šabac, Žabalj", "Чачак, Ћуприја, Ђурђевдан, Шабац, Жабаљ"),
        ("nadživeti, injekcija, konjunktura", "надживети, инјекција, конјунктура"),
        ("**Mapirajte pretnje** i 1. korak", "**Мапирајте претње** и 1. корак"),
        ("mreža Strong Cities i Regionalni centar", "мрежа Strong Cities и Регионални центар"),
        ("Pošaljite `/ask` ili /tickets", "Пошаљите `/ask` или /tickets"),
        ("vidi [ovde](https://example.org/lj)", "види [овде](https://example.org/lj)"),
        ("pišite na info@grad.rs ili www.grad.rs", "пишите на info@grad.rs или www.grad.rs"),
        ("Wi-Fi i Excel ostaju", "Wi-Fi и Excel остају"),
        ("godine 2023.", "године 2023."),
    ],
)
def test_serbian_latin_becomes_cyrillic(latin: str, cyrillic: str) -> None:
    assert to_serbian_cyrillic(latin) == cyrillic


def test_the_same_text_gives_the_same_cyrillic_every_time() -> None:
    text = "Kako da osnujemo lokalni savet za bezbednost u našoj opštini?"
    assert to_serbian_cyrillic(text) == to_serbian_cyrillic(text)
    assert not any("a" <= ch <= "z" for ch in to_serbian_cyrillic(text))
