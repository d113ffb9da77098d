"""Telegram's HTML dialect: everything escaped, Markdown mapped to the tags it knows,
long replies cut between paragraphs below 4096 characters as Telegram counts them (UTF-16
code units)."""

import html
import re

import pytest

from helpdesk.adapters.telegram_html import render_telegram, split_blocks, utf16_len
from helpdesk.domain.actions import GiveFeedback
from helpdesk.domain.questions import Feedback
from helpdesk.i18n import Button, Msg, Quote, QuoteStyle, Reply, Text, Translator

ALLOWED = re.compile(r"</?(b|i|s|code|pre|blockquote|a)( href=\"[^\"<>]*\")?>")


def only_telegram_tags(chunk: str) -> bool:
    return not re.sub(ALLOWED, "", chunk).count("<")


def test_text_from_people_and_entries_is_escaped_and_no_unknown_tag_is_made() -> None:
    reply = Reply(
        (
            Quote("<img src=x onerror=alert(1)>", QuoteStyle.TITLE),
            Quote(
                "**Map** first. <script>alert(1)</script> [x](javascript:alert(1)) "
                "[report](https://example.org/a?b=1&c=2)",
                QuoteStyle.MARKDOWN,
            ),
            Quote("Како да се <b>справиме</b> со говорот на омраза? A & B"),
            Text(Msg.TICKETS_LINE, {"ticket": 1, "status": Text(Msg.STATUS_OPEN), "text": "<i>"}),
        )
    )
    [chunk] = render_telegram(Translator(), reply, "en").chunks
    assert only_telegram_tags(chunk), chunk
    assert "<b>Map</b> first." in chunk
    assert "&lt;script&gt;" in chunk and 'href="javascript' not in chunk
    assert '<a href="https://example.org/a?b=1&amp;c=2">report</a>' in chunk
    assert "Како да се &lt;b&gt;справиме&lt;/b&gt; со говорот на омраза? A &amp; B" in chunk
    assert "<p>" not in chunk and "<br>" not in chunk


def test_markdown_lists_headings_and_code_become_lines_telegram_shows() -> None:
    body = "## Steps\n\n1. Map *risks*\n2. Agree a plan\n\n- one\n- two\n\n`code` and ~~old~~"
    [chunk] = render_telegram(Translator(), Reply((Quote(body, QuoteStyle.MARKDOWN),)), None).chunks
    assert chunk.split("\n\n") == [
        "<b>Steps</b>",
        "1. Map <i>risks</i>\n2. Agree a plan",
        "• one\n• two",
        "<code>code</code> and <s>old</s>",
    ]


def test_buttons_are_kept_apart_for_the_keyboard() -> None:
    reply = Reply(
        (Text(Msg.ANSWER_DID_IT_HELP),),
        buttons=(Button(Text(Msg.BUTTON_HELPFUL), GiveFeedback(1, Feedback.HELPFUL)),),
    )
    rendered = render_telegram(Translator(), reply, "en")
    assert rendered.buttons == (("Helpful", "/feedback 1 helpful"),)
    assert "Helpful" not in rendered.chunks[0]


def test_a_long_answer_is_cut_between_paragraphs_within_the_limit() -> None:
    paragraphs = [f"Paragraph {i}: " + "слово & word " * 60 for i in range(20)]
    body = "\n\n".join(paragraphs)
    chunks = render_telegram(Translator(), Reply((Quote(body, QuoteStyle.MARKDOWN),)), None).chunks
    assert len(chunks) > 1
    assert all(len(c) <= 4096 and only_telegram_tags(c) for c in chunks)
    # Nothing lost, nothing cut inside a paragraph.
    assert "\n\n".join(chunks).split("\n\n") == [
        p.strip().replace("&", "&amp;") for p in paragraphs
    ]


def test_one_block_longer_than_a_message_is_cut_with_its_tags_around_each_piece() -> None:
    question = ("Ово је веома дуго питање & <tag> " * 400).strip()
    chunks = render_telegram(Translator(), Reply((Quote(question),)), None).chunks
    assert len(chunks) >= 3
    for chunk in chunks:
        assert len(chunk) <= 4096
        assert chunk.startswith("<blockquote>") and chunk.endswith("</blockquote>")
        assert not re.search(r"&[a-z]*$", chunk.removesuffix("</blockquote>"))


def test_split_blocks_packs_small_blocks_together() -> None:
    assert split_blocks(["a", "b", "c"], limit=5) == ("a\n\nb", "c")


def parsed(chunk: str) -> str:
    """The text Telegram reads from a chunk of our HTML (tags gone, escapes decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", chunk))


def test_utf16_len_counts_as_telegram_does() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("Љубљана") == 7  # Cyrillic and Latin with diacritics: one unit each
    assert utf16_len("市议会") == 3  # CJK in the basic plane: one unit each
    assert utf16_len("😀") == 2  # beyond U+FFFF: a surrogate pair
    assert utf16_len("🇲🇰") == 4  # a flag: two regional indicators
    assert utf16_len("\U0001f469\U0001f3fd\u200d\U0001f4bb") == 7  # woman, tone, joiner, laptop


def test_a_question_of_emoji_is_cut_by_utf16_units_and_nothing_is_lost() -> None:
    """The issue's case: 23 letters and 3,970 emoji are 3,993 characters but 7,963 units."""
    question = "abcdefghijklmnopqrstuvw " + "😀" * 3970
    chunks = render_telegram(Translator(), Reply((Quote(question),)), None).chunks
    assert len(chunks) == 2
    assert all(utf16_len(c) <= 4096 for c in chunks)
    assert all(c.startswith("<blockquote>") and c.endswith("</blockquote>") for c in chunks)
    assert "".join(parsed(c) for c in chunks).count("😀") == 3970


@pytest.mark.parametrize(
    "unit",
    [
        "🇲🇰",  # two regional indicators
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland: tags
        "\U0001f469\U0001f3fd\u200d\U0001f4bb",  # woman, skin tone, joiner, laptop
        "e\u0301",  # a letter and its combining accent
        "\u2764\ufe0f",  # a heart and the selector that makes it an emoji
    ],
    ids=["flag", "tag-sequence-flag", "zwj-sequence", "combining-accent", "variation-selector"],
)
def test_a_block_without_spaces_is_cut_between_whole_characters(unit: str) -> None:
    """No space or line to cut at: the cut still never splits a flag, an emoji sequence or
    a letter from its accent, wherever the limit falls within one."""
    size = utf16_len(unit)
    for filler in range(size + 1):
        text = "x" * filler + unit * (120 // size)
        chunks = split_blocks([text], limit=50)
        assert len(chunks) > 1
        assert all(utf16_len(c) <= 50 for c in chunks), chunks
        assert "".join(chunks) == text
        for chunk in chunks:
            body = chunk.removeprefix("x" * filler)
            assert body == unit * (len(body) // len(unit)), (filler, chunks)


def test_escapes_near_the_cut_count_as_what_is_sent() -> None:
    """``&amp;`` is five units of HTML for one of text: the HTML is what is measured, so a
    piece never exceeds the limit whatever Telegram decodes, and no escape is split."""
    block = "<blockquote>" + "a &amp; b " * 1000 + "</blockquote>"
    chunks = split_blocks([block])
    assert len(chunks) >= 3
    for chunk in chunks:
        assert utf16_len(chunk) <= 4096
        assert chunk.startswith("<blockquote>") and chunk.endswith("</blockquote>")
        inner = chunk.removeprefix("<blockquote>").removesuffix("</blockquote>")
        assert not re.search(r"&[a-z]*$", inner) and not inner.startswith(("amp;", "mp;", "p;"))
    assert "".join(parsed(c) for c in chunks).count("a & b") == 1000


def test_a_long_block_is_cut_at_paragraphs_before_lines_before_spaces() -> None:
    line = " ".join(["word"] * 30)  # 149 units
    paragraph = "\n".join([line] * 5)  # 749 units
    quoted = "\n\n".join([paragraph] * 8)
    chunks = split_blocks([f"<blockquote>{quoted}</blockquote>"], limit=2000)
    assert len(chunks) == 4  # two paragraphs each: a third would not fit
    for chunk in chunks:
        inner = chunk.removeprefix("<blockquote>").removesuffix("</blockquote>")
        assert inner.split("\n\n") == [paragraph, paragraph]
    # One paragraph longer than the limit: cut between its lines, then between words.
    chunks = split_blocks([f"<blockquote>{paragraph}</blockquote>"], limit=400)
    assert [c.count("\n") for c in chunks] == [1, 1, 0]
    assert all(line in c.split("\n")[0] for c in chunks)
    assert split_blocks([line], limit=100) == (" ".join(["word"] * 20), " ".join(["word"] * 10))


def test_packing_counts_utf16_units() -> None:
    emoji = "😀" * 1000  # 1000 characters, 2000 units
    assert split_blocks([emoji, emoji, emoji]) == (f"{emoji}\n\n{emoji}", emoji)
    assert split_blocks(["市" * 2000, "市" * 2000]) == ("市" * 2000 + "\n\n" + "市" * 2000,)
