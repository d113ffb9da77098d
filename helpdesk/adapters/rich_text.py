"""Replies as HTML with a plain-text twin, for platforms that show formatting.

Every piece of text from people or from the knowledge base is escaped; knowledge
answers are Markdown, rendered with raw HTML disabled, so nothing a curator or a user
types can inject markup.
"""

import html
from dataclasses import dataclass
from functools import cache, lru_cache

from markdown_it import MarkdownIt

from helpdesk.i18n import Msg, Quote, QuoteStyle, Reply, Translator
from helpdesk.i18n.messages import Part

__all__ = ["RichText", "markdown_parser", "render_rich"]


@dataclass(frozen=True)
class RichText:
    plain: str
    html: str


@cache
def markdown_parser() -> MarkdownIt:
    """CommonMark without raw HTML: what curators write can never inject markup."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("strikethrough")


@lru_cache(maxsize=256)
def _markdown_html(source: str) -> str:
    """Kept for the answers sent most: the same entry is rendered for everyone it answers."""
    rendered: str = markdown_parser().render(source)
    return rendered.strip()


def _escape_lines(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.split("\n"))


def _part_html(translator: Translator, part: Part, language: str | None) -> str:
    if isinstance(part, Quote):
        if part.style is QuoteStyle.TITLE:
            return f"<p><strong>{html.escape(part.text)}</strong></p>"
        if part.style is QuoteStyle.MARKDOWN:
            return _markdown_html(part.text)
        return f"<blockquote>{_escape_lines(part.text)}</blockquote>"
    return f"<p>{_escape_lines(translator.part(part, language))}</p>"


def render_rich(translator: Translator, reply: Reply, language: str | None) -> RichText:
    """The reply as (plain, HTML); buttons become a numbered list to answer with."""
    plain = translator.render(reply, language)
    blocks = [_part_html(translator, part, language) for part in reply.parts]
    lines = [plain.text]
    if plain.buttons:
        choose = translator.translate(Msg.CHOOSE_BY_NUMBER, language, {})
        items = "".join(f"<li>{html.escape(label)}</li>" for label, _ in plain.buttons)
        blocks.append(f"<p>{html.escape(choose)}</p><ol>{items}</ol>")
        lines.append(choose)
        lines.extend(f"{i}. {label}" for i, (label, _) in enumerate(plain.buttons, start=1))
    return RichText(
        "\n\n".join(lines[:1]) + ("\n" + "\n".join(lines[1:]) if lines[1:] else ""),
        "\n".join(blocks),
    )
