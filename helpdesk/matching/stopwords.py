"""Words that carry little meaning in a question: function words, question words, greetings.

They still count (with a small weight), so that a question made only of them
does not match anything strongly. Written in normalised form (Latin, no
diacritics, lower case): Cyrillic input is transliterated before lookup.
"""

from helpdesk.matching.normalize import normalize_text, tokens

__all__ = ["STOPWORDS", "has_content"]

_ENGLISH = """
a an the and or but if of to in on at for from by with about as into than then so
is are was were be been being do does did doing have has had having can could will
would shall should may might must i me my we us our you your he she it its they them
their this that these those there here what which who whom whose when where why how
not no yes any some all more most very just also too please hi hello hey dear thanks
thank regards good morning afternoon evening best question ask help need want know
tell get got let one way ways lot much many ok okay bye goodbye great cheers
fine nice cool sorry
"""
# Bosnian, Croatian, Serbian, Montenegrin (Latin, folded).
_BCMS = """
i a ali ili da li je su sam smo ste si bi bih bismo biste bio bila bilo bili se sebe
mi ti on ona ono oni one vi nas vas nam vam njih njima ga mu joj ih me mene tebi
moj moja moje nas naš nasa nase vas vasa vase koji koja koje kojeg kojoj kojim sta
sto kako gdje gde kada kad zasto zbog koliko ko tko sto li u na o od do za sa s iz
po pri kod prema bez nad pod kroz ka ovo ovaj ova ove taj ta to te tu ovdje ovde
tamo vec jos samo bas neki neka neko nesto mozemo mozete moze mogu mogli treba
trebamo trebalo hocu hocemo zelim zelimo imam imamo ima nema nije nisam dobar dan
zdravo pozdrav pozdravi hvala molim lijepo lepo postovani postovana ok dobro super
cao dovidjenja vidimo puno mnogo jos
"""
_MACEDONIAN = """
i a no ili da dali e se sum sme ste si bi bev bese jas ti toj taa toa nie vie tie
nas vas nivni na nam vam mi mu ja gi go nas nase nasiot nasata nasite koj koja koe
koi sto kako kade koga zosto kolku od do za so vo po pri kon bez niz ovoj ovaa ova
ovie toj taa toa tie tuka tamu veke ushte samo nekoj nesto mozeme mozete moze
mozam treba trebame sakam sakame imam imame ima nema ne zdravo pozdrav blagodaram
fala ve molam pocituvani dobar den mnogu dobro cao prijatno
"""
_ALBANIAN = """
e dhe ose por nese i te ne me per nga ne tek si qe cfare cili cila cilet ku kur pse
sa une ti ai ajo ne ju ata ato im ime yne jone juaj tyre ky kjo keta keto ai ajo
eshte jane jam jemi jeni ka kane kam kemi mund duhet dua duam do te se nuk po jo
pershendetje faleminderit ju lutem miredita tung shume mirupafshim mire ok
"""
_FRENCH = """
le la les un une des du de d l et ou mais si a au aux en dans sur pour par avec
sans sous que qui quoi quel quelle quels quelles comment pourquoi quand ou est sont
suis sommes etes ai avons avez ont je tu il elle on nous vous ils elles me te se
ce cet cette ces mon ma mes notre nos votre vos leur leurs ne pas plus peut pouvons
pouvez faut faire bonjour merci svp madame monsieur qu c s n j beaucoup salut
revoir bien ok
"""

STOPWORDS: frozenset[str] = frozenset(
    word for block in (_ENGLISH, _BCMS, _MACEDONIAN, _ALBANIAN, _FRENCH) for word in block.split()
)


def has_content(text: str) -> bool:
    """False for greetings, thanks and other messages made only of function words."""
    return any(
        word not in STOPWORDS and not word.isdigit() and len(word) > 1
        for word in tokens(normalize_text(text))
    )
