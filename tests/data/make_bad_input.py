"""Writes bad_input.jsonl: hostile and odd messages that every adapter must survive.

Run from the project root: python tests/data/make_bad_input.py. The output is committed;
this script says how it was made and makes it again. Deterministic (no randomness that
is not seeded). One JSON object per line: {"kind": ..., "text": ...}; a message too big to
keep in the file is {"kind": ..., "fill": CHARS, "size": N}: CHARS repeated to N characters.
"""

import json
import random
from pathlib import Path

QUESTION = "How do we set up a local safety council?"

EMPTY = ["", " ", "   ", "\n", "\n\n\n", "\t", " \t \n ", "\u00a0", "\u3000", "\u2028", "\u2029"]

HUGE = [
    ("huge-ascii-1mb", "x", 1_048_576),
    ("huge-question-1mb", QUESTION + " ", 1_048_576),
    ("huge-cyrillic", "Како да формираме локални совет? ", 300_000),
    ("huge-emoji", "😀", 100_000),
    ("huge-newlines", "\n", 100_000),
    ("huge-just-over-limit", "a", 4001),
    ("huge-at-limit", "b", 4000),
    ("huge-spaces-then-text", " ", 50_000),
]

CONTROL = [chr(c) for c in [*range(0, 32), 127, *range(0x80, 0xA0)]]

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\u034f"]
BIDI = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
]

HTML = [
    "<b>bold</b>",
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">click</a>',
    "<img src=x onerror=alert(1)>",
    "</b></i></code></pre>",
    "<b><i>unclosed",
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;b&gt;",
    "&#0;",
    "&#x1F600;",
    "&nbsp;&nbsp;",
    "<tg-spoiler>secret</tg-spoiler>",
    '<pre><code class="language-python">x</code></pre>',
    "<blockquote>q</blockquote>",
    '<span class="tg-spoiler">x</span>',
    "<br/><hr/>",
    "<!-- comment -->",
    "<![CDATA[x]]>",
    "<iframe src=//evil>",
    "<style>*{}</style>",
    '<a href="tg://user?id=1">me</a>',
    "<<b>>",
    "<b attr='1'>x</b>",
    "&unknown;",
    "<u><s>x</s></u>",
    "<emoji id=1>x</emoji>",
]

MARKDOWN = [
    "**bold**",
    "__under__",
    "*italic",
    "_under",
    "`code",
    "```\nfence",
    "```python\nx\n```",
    "[link](javascript:alert(1))",
    "![img](http://127.0.0.1/x.png)",
    "# heading",
    "> quote",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "~~strike~~",
    "||spoiler||",
    "\\*escaped\\*",
    "_*[]()~`>#+-=|{}.!",
    "[a]: http://x",
    "<http://example.org>",
    "***",
    "---",
    "* * *",
    "1. one\n2. two",
    "- [ ] task",
    "[![a](b)](c)",
    "*" * 200,
    "_" * 200,
    "`" * 99,
    "[" * 100 + "x" + "]" * 100,
    "a*b_c`d",
    "\\",
    "\\\\",
    "$$x^2$$",
]

SQL = [
    "'; DROP TABLE questions; --",
    "1 OR 1=1",
    '" OR ""="',
    "' OR '1'='1",
    "%",
    "_",
    "%%",
    "Robert'); DROP TABLE people;--",
    "SELECT * FROM tickets",
    "1; DELETE FROM outbox",
    "admin'--",
    "' UNION SELECT code_hash FROM invites --",
    "%' AND 1=1 --",
    "\\'; --",
    "$1",
    "?",
    ":name",
    "0x00",
    "NULL",
    "' || pg_sleep(10) --",
    "'; ATTACH DATABASE 'x' AS y;--",
]

FORMAT = [
    "%s %d %x %n",
    "{0} {name} {}",
    "${HOME}",
    "{{}}",
    "%(name)s",
    "{__class__}",
    "#{1+1}",
    "{{7*7}}",
    "<%= 7*7 %>",
    "\\N{BEL}",
    "\\x00",
    "\\u0000",
    "null",
    "None",
    "undefined",
    "NaN",
    "true",
    "[]",
    "{}",
    '{"a": 1}',
    '<?xml version="1.0"?><a/>',
    "---\ntitle: x\n---",
]

EMOJI = [
    "😀",
    "👍",
    "🙏🙏🙏",
    "🇧🇦🇷🇸🇲🇰🇦🇱🇲🇪🇭🇷",
    "👨‍👩‍👧‍👦",
    "👍🏽",
    "🏳️‍🌈",
    "❤️",
    "🤔❓",
    "✅❌",
    "🫠",
    "🧑🏿‍🦯",
    "#️⃣",
    "©️",
    "🅰️",
    "💯" * 50,
]

SCRIPTS = [
    "Kako da osnujemo lokalno vijeće za sigurnost?",
    "Kako da osnujemo lokalno vijece za sigurnost",
    "Како да оснујемо локални савет за безбедност?",
    "Како да формираме локален совет за безбедност?",
    "Si të krijojmë një këshill lokal për siguri?",
    "Comment créer un conseil local de sécurité ?",
    "Kako da osnujemo lokalni savjet za bezbjednost?",
    "Kakо dа оsnuјеmо (mixed Latin/Cyrillic)",
    "كيف ننشئ مجلسا محليا للأمن؟",
    "איך מקימים מועצה מקומית?",
    "如何建立地方安全委员会？",
    "地域の安全協議会はどう作りますか？",
    "지역 안전 위원회는 어떻게 만드나요?",
    "स्थानीय सुरक्षा परिषद कैसे बनाएं?",
    "จะตั้งสภาความปลอดภัยท้องถิ่นได้อย่างไร",
    "Πώς ιδρύουμε τοπικό συμβούλιο ασφαλείας;",
    "როგორ შევქმნათ ადგილობრივი საბჭო?",
    "Ինչպե՞ս ստեղծել տեղական խորհուրդ:",
    "𝐇𝐨𝐰 𝐝𝐨 𝐰𝐞 𝐬𝐞𝐭 𝐮𝐩 𝐚 𝐜𝐨𝐮𝐧𝐜𝐢𝐥?",
    "Ｈｏｗ　ｄｏ　ｗｅ　ｓｅｔ　ｕｐ　ａ　ｃｏｕｎｃｉｌ？",
    "H̸̡̪̯ͨ͊̽̅̾̎Ȩ̬̩̾͛ͪ̈́̀́͘ ̶̧̨̱̹̭̯ͧ̾ͬC̷̙̲̝͖ͭ̏ͥͮ͟Oͮ͏̮̪̝͍M̲̖͊̒ͪͩͬ̚̚͜Ȇ̴̟̟͙̞ͩ͌͝S̨̥̫͎̭ͯ̿̔̀ͅ",
    "ǅ ǈ ǋ ǲ",
    "ÆØÅ æøå ß ẞ",
    "İstanbul ı",
    "ᚠᚢᚦᚨᚱᚲ",
    "⠓⠑⠇⠇⠕",
    "ꙮ",
    "𓀀𓀁",
    "🜁🜂🜃",
]

COMMANDS = [
    "/",
    "//",
    "/ ",
    "/unknown",
    "/UNKNOWN",
    "/help extra words",
    "/HELP",
    "/help@helpdesk_bot",
    "/start",
    "/start bad-code",
    "/start AAAA-BBBB-CCCC",
    "/start " + "x" * 500,
    "/rate",
    "/rate x",
    "/rate 99 9",
    "/rate 1 10",
    "/rate 1 0",
    "/rate -1 3",
    "/rate 1 3.5",
    "/rate 999999999999999999999 5",
    "/answer",
    "/answer abc",
    "/answer 1",
    "/answer 99999 hi",
    "/cancel",
    "/cancel -1",
    "/cancel 99999999999999999999",
    "/cancel one",
    "/cancel ١٢",
    "/language",
    "/language xx",
    "/language en-GB-oxendict",
    "/language 🇧🇦",
    "/language ../../etc",
    "/tickets foo",
    "/decline",
    "/decline x",
    "/promote",
    "/publish x",
    "/retire",
    "/phrase",
    "/accept",
    "/reject 0",
    "/stats now",
    "/introduce",
    "/connect",
    "/connect Nowhere",
    "/forget maybe",
    "/forget no",
    "/away",
    "/away nonsense",
    "/away 99999d",
    "/away -3d",
    "/back now",
    "/ask",
    "/ask " + " " * 20,
    "/followup",
    "/followup 1 maybe",
    "/feedback",
    "/pick",
    "/pick 99",
    "/escalate",
    "/escalate x",
    "/" + "a" * 5000,
    "/rate@other_bot 1 5",
    "/ask\u200b",
    "/\u202ehelp",
    "/help\x00",
    "／help",
    "/помощ",
    "/ndihmë",
]

NUMBERS = ["0", "1", "2", "9", "99", "-1", "1.5", "١", "²", "Ⅻ", "1e9", "00", " 1 "]

OTHER = [
    "http://example.org/?q=<b>x</b>",
    "mailto:a@b.c",
    "+387 61 123 456",
    "a@b.c",
    "javascript:alert(1)",
    "data:text/html,<b>x</b>",
    "file:///etc/passwd",
    "../../../etc/passwd",
    "C:\\Windows\\System32",
    "\\\\server\\share",
    "🔗 https://t.me/joinchat/x",
    "@everyone",
    "@helpdesk_bot",
    "#hashtag",
    "!cmd",
    "?",
    "??????",
    "...",
    "…",
    "—",
    '"',
    "'",
    "`",
]


def hostile_fragments() -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    items += [("control", f"{QUESTION[:10]}{c}{QUESTION[10:]}") for c in CONTROL]
    items += [("control-alone", c) for c in CONTROL[:32]]
    items += [("invisible", f"{c}{QUESTION}{c}") for c in INVISIBLE]
    items += [("invisible-alone", c * 3) for c in INVISIBLE]
    items += [("bidi", f"{c}{QUESTION}") for c in BIDI]
    items += [("bidi-alone", c) for c in BIDI]
    items += [("html", h) for h in HTML]
    items += [("html-in-question", f"{QUESTION} {h}") for h in HTML]
    items += [("markdown", m) for m in MARKDOWN]
    items += [("markdown-in-question", f"{m} {QUESTION}") for m in MARKDOWN]
    items += [("sql", s) for s in SQL]
    items += [("sql-in-question", f"{QUESTION} {s}") for s in SQL]
    items += [("format", f) for f in FORMAT]
    items += [("emoji", e) for e in EMOJI]
    items += [("script", s) for s in SCRIPTS]
    items += [("command", c) for c in COMMANDS]
    items += [("number", n) for n in NUMBERS]
    items += [("other", o) for o in OTHER]
    items += [("empty", e) for e in EMPTY]
    return items


def binary(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Bytes as a client that does not check encodings might pass them on."""
    items = []
    for n in range(count):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        codec = ("latin-1", "cp1252", "utf-8")[n % 3]
        items.append(("binary", raw.decode(codec, errors="replace")))
    return items


def main() -> None:
    rng = random.Random(20261123)
    lines = [json.dumps({"kind": k, "text": t}, ensure_ascii=True) for k, t in hostile_fragments()]
    lines += [json.dumps({"kind": k, "text": t}, ensure_ascii=True) for k, t in binary(rng, 30)]
    lines += [json.dumps({"kind": k, "fill": f, "size": s}) for k, f, s in HUGE]
    out = Path(__file__).with_name("bad_input.jsonl")
    out.write_text("\n".join(lines) + "\n", encoding="ascii")
    print(f"{len(lines)} messages -> {out}")


if __name__ == "__main__":
    main()
