"""Replies in the small HTML dialect Telegram accepts, cut into messages it will take.

Telegram's HTML has no paragraphs, lists or line-break tags (``<p>`` is a "can't parse
entities" error), so knowledge answers written in Markdown are rendered here to the tags
it knows, and every piece of text is escaped: a ``<`` in a question written in Cyrillic,
or in an entry, never breaks a message. A message may hold 4096 characters: longer
replies are cut between paragraphs, and the buttons go with the last piece.
"""

import html
import re
from dataclasses import dataclass

from markdown_it.token import Token

from helpdesk.adapters.rich_text import markdown_parser
from helpdesk.i18n import Quote, QuoteStyle, Reply, Translator
from helpdesk.i18n.messages import Part

__all__ = ["TELEGRAM_LIMIT", "TelegramText", "render_telegram", "split_blocks"]

TELEGRAM_LIMIT = 4096
_SAFE_LINK = re.compile(r"^(https?|mailto|tg):", re.I)
_INLINE_TAGS = {
    "strong_open": "<b>",
    "strong_close": "</b>",
    "em_open": "<i>",
    "em_close": "</i>",
    "s_open": "<s>",
    "s_close": "</s>",
}


@dataclass(frozen=True)
class TelegramText:
    chunks: tuple[str, ...]  # HTML, each within Telegram's limit
    buttons: tuple[tuple[str, str], ...]  # (label, action) for the last chunk


def _inline(children: list[Token]) -> str:
    out: list[str] = []
    links: list[bool] = []  # whether each open link was kept (unsafe ones are dropped)
    for token in children:
        if token.type == "text":
            out.append(html.escape(token.content, quote=False))
        elif token.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif token.type == "code_inline":
            out.append(f"<code>{html.escape(token.content, quote=False)}</code>")
        elif token.type in _INLINE_TAGS:
            out.append(_INLINE_TAGS[token.type])
        elif token.type == "link_open":
            href = str(token.attrs.get("href", ""))
            keep = bool(_SAFE_LINK.match(href))
            links.append(keep)
            if keep:
                out.append(f'<a href="{html.escape(href, quote=True)}">')
        elif token.type == "link_close":
            if links.pop() if links else False:
                out.append("</a>")
        elif token.type == "image":
            out.append(html.escape(token.content, quote=False))
        else:  # anything else markdown-it may add later: its text, never its markup
            out.append(html.escape(token.content, quote=False))
    return "".join(out)


def _markdown_blocks(source: str) -> list[str]:
    """Markdown as Telegram HTML, one string per block (paragraph, list item, code...)."""
    blocks: list[str] = []
    lists: list[list[int]] = []  # a counter per open list; [-1] for bullets
    list_block: int | None = None  # the block the items of the open list go into
    marker = ""  # of the list item whose first paragraph comes next
    quote_depth = 0
    heading = False
    for token in markdown_parser().parse(source):
        kind = token.type
        if kind == "bullet_list_open":
            lists.append([-1])
        elif kind == "ordered_list_open":
            lists.append([int(token.attrs.get("start", 1) or 1)])
        elif kind == "list_item_open":
            counter = lists[-1]
            marker = "•" if counter[0] < 0 else f"{counter[0]}."
            counter[0] += 1 if counter[0] >= 0 else 0
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                list_block = None
        elif kind == "blockquote_open":
            quote_depth += 1
        elif kind == "blockquote_close":
            quote_depth -= 1
        elif kind == "heading_open":
            heading = True
        elif kind == "heading_close":
            heading = False
        elif kind == "inline":
            text = _inline(token.children or [])
            if heading:
                text = f"<b>{text}</b>"
            if quote_depth:
                text = f"<blockquote>{text}</blockquote>"
            if lists:  # a list reads better as lines of one block than a blank line apart
                text = "   " * (len(lists) - 1) + (f"{marker} " if marker else "  ") + text
                marker = ""  # a second paragraph of the same item gets none
                if list_block is not None:
                    blocks[list_block] += "\n" + text
                    continue
                list_block = len(blocks)
            blocks.append(text)
        elif kind in ("fence", "code_block"):
            blocks.append(f"<pre>{html.escape(token.content.rstrip(), quote=False)}</pre>")
        elif kind == "hr":
            blocks.append("———")
    return blocks


def _part_blocks(translator: Translator, part: Part, language: str | None) -> list[str]:
    if isinstance(part, Quote):
        if part.style is QuoteStyle.TITLE:
            return [f"<b>{html.escape(part.text, quote=False)}</b>"]
        if part.style is QuoteStyle.MARKDOWN:
            return _markdown_blocks(part.text)
        return [f"<blockquote>{html.escape(part.text, quote=False)}</blockquote>"]
    return [html.escape(translator.part(part, language), quote=False)]


def split_blocks(blocks: list[str], limit: int = TELEGRAM_LIMIT) -> tuple[str, ...]:
    """Blocks packed into messages of at most ``limit`` characters, cut between blocks.

    The length counted is that of the HTML, never less than what Telegram counts. A block
    longer than a message on its own (a very long quoted question) is cut between lines,
    then words, with its tags closed and opened again around each piece.
    """
    pieces: list[str] = []
    for block in blocks:
        pieces.extend([block] if len(block) <= limit else _cut_block(block, limit))
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 2 + len(piece) <= limit:
            chunks[-1] += "\n\n" + piece
        else:
            chunks.append(piece)
    return tuple(chunks)


_WRAPPER = re.compile(r"^(<(b|blockquote|pre)>)(.*)(</\2>)$", re.S)


def _cut_block(block: str, limit: int) -> list[str]:
    match = _WRAPPER.match(block)
    opening, inner, closing = (match[1], match[3], match[4]) if match else ("", block, "")
    if re.search(r"<[a-z]", inner):  # inline markup inside: keep the text, drop the tags
        inner = html.escape(html.unescape(re.sub(r"<[^>]+>", "", inner)), quote=False)
    room = limit - len(opening) - len(closing)
    pieces: list[str] = []
    rest = inner
    while len(rest) > room:
        cut = max(rest.rfind("\n", 0, room), rest.rfind(" ", 0, room))
        if cut <= room // 2:
            cut = room
        cut = _outside_entity(rest, cut)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return [f"{opening}{piece}{closing}" for piece in pieces if piece]


def _outside_entity(text: str, cut: int) -> int:
    """Move a cut back so that it does not fall inside an escape like ``&amp;``."""
    amp = text.rfind("&", max(0, cut - 8), cut)
    if amp >= 0 and ";" not in text[amp:cut]:
        return amp
    return cut


def render_telegram(
    translator: Translator, reply: Reply, language: str | None, limit: int = TELEGRAM_LIMIT
) -> TelegramText:
    plain = translator.render(reply, language)
    blocks = [b for part in reply.parts for b in _part_blocks(translator, part, language) if b]
    return TelegramText(
        chunks=split_blocks(blocks, limit) or (html.escape(plain.text, quote=False),),
        buttons=plain.buttons,
    )
