"""Telegram's HTML dialect: everything escaped, Markdown mapped to the tags it knows,
long replies cut between paragraphs below 4096 characters."""

import re

from helpdesk.adapters.telegram_html import render_telegram, split_blocks
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
        buttons=(Button(Text(Msg.BUTTON_HELPFUL), "/feedback 1 helpful"),),
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
