"""Replies in the small HTML dialect Telegram accepts, cut into messages it will take.

Telegram's HTML has no paragraphs, lists or line-break tags (``<p>`` is a "can't parse
entities" error), so knowledge answers written in Markdown are rendered here to the tags
it knows, and every piece of text is escaped: a ``<`` in a question written in Cyrillic,
or in an entry, never breaks a message. A message may hold 4096 characters as Telegram
counts them, in UTF-16 code units (an emoji is usually two, a flag four): longer replies
are cut between paragraphs, and the buttons go with the last piece.
"""

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from markdown_it.token import Token

from helpdesk.adapters.rich_text import markdown_parser
from helpdesk.i18n import Quote, QuoteStyle, Reply, Translator
from helpdesk.i18n.messages import Part

__all__ = ["TELEGRAM_LIMIT", "TelegramText", "render_telegram", "split_blocks", "utf16_len"]

TELEGRAM_LIMIT = 4096
_RENDERED = 256  # knowledge-base answers kept rendered
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


@lru_cache(maxsize=_RENDERED)
def _markdown_blocks(source: str) -> tuple[str, ...]:
    """Markdown as Telegram HTML, one string per block (paragraph, list item, code...).
    Kept for the answers sent most: the same entry is rendered for everyone it answers."""
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
    return tuple(blocks)


def _part_blocks(translator: Translator, part: Part, language: str | None) -> list[str]:
    if isinstance(part, Quote):
        if part.style is QuoteStyle.TITLE:
            return [f"<b>{html.escape(part.text, quote=False)}</b>"]
        if part.style is QuoteStyle.MARKDOWN:
            return list(_markdown_blocks(part.text))
        return [f"<blockquote>{html.escape(part.text, quote=False)}</blockquote>"]
    return [html.escape(translator.part(part, language), quote=False)]


def utf16_len(text: str) -> int:
    """Telegram's length of a text: UTF-16 code units, two for a character beyond U+FFFF."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def split_blocks(blocks: list[str], limit: int = TELEGRAM_LIMIT) -> tuple[str, ...]:
    """Blocks packed into messages of at most ``limit`` UTF-16 code units, cut between blocks.

    The length counted is that of the HTML, never less than what Telegram counts after
    parsing it (tags and escapes only add). A block longer than a message on its own (a
    very long quoted question) is cut between paragraphs, then lines, then words, with its
    tags closed and opened again around each piece.
    """
    pieces: list[str] = []
    for block in blocks:
        pieces.extend([block] if utf16_len(block) <= limit else _cut_block(block, limit))
    chunks: list[str] = []
    size = 0  # of the last chunk
    for piece in pieces:
        length = utf16_len(piece)
        if chunks and size + 2 + length <= limit:
            chunks[-1] += "\n\n" + piece
            size += 2 + length
        else:
            chunks.append(piece)
            size = length
    return tuple(chunks)


_WRAPPER = re.compile(r"^(<(b|blockquote|pre)>)(.*)(</\2>)$", re.S)
_SEPARATORS = ("\n\n", "\n", " ")  # paragraphs, then lines, then words


def _cut_block(block: str, limit: int) -> list[str]:
    match = _WRAPPER.match(block)
    opening, inner, closing = (match[1], match[3], match[4]) if match else ("", block, "")
    if re.search(r"<[a-z]", inner):  # inline markup inside: keep the text, drop the tags
        inner = html.escape(html.unescape(re.sub(r"<[^>]+>", "", inner)), quote=False)
    room = limit - utf16_len(opening) - utf16_len(closing)
    pieces: list[str] = []
    rest = inner
    while utf16_len(rest) > room:
        cut = _cut_point(rest, room)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return [f"{opening}{piece}{closing}" for piece in pieces if piece]


def _cut_point(text: str, room: int) -> int:
    """Where to cut ``text`` so that the piece before fits in ``room`` UTF-16 units: at the
    last paragraph break, line break or space in the second half of what fits, else as late
    as possible outside an escape like ``&amp;`` and a character's sequence (a flag, an
    emoji with a skin tone, a letter with its accent)."""
    fits = _fitting(text, room)
    half = fits // 2
    for separator in _SEPARATORS:
        at = text.rfind(separator, half, fits)
        if at > 0:
            return at
    cut = _outside_sequence(text, fits, half)
    return max(_outside_entity(text, cut), 1)


def _fitting(text: str, room: int) -> int:
    """How many characters from the start of ``text`` fit in ``room`` UTF-16 units."""
    total = 0
    for index, char in enumerate(text):
        total += _units(char)
        if total > room:
            return index
    return len(text)


_REGIONAL = range(0x1F1E6, 0x1F200)  # flags are pairs of these
_ATTACHED = (
    range(0xFE00, 0xFE10),  # variation selectors (emoji or text style)
    range(0xE0100, 0xE01F0),
    range(0x1F3FB, 0x1F400),  # skin tones
    range(0xE0020, 0xE0080),  # tags (the flags of England, Scotland, Wales)
)


def _joined(text: str, index: int) -> bool:
    """Whether ``text[index]`` belongs to the same visible character as the one before."""
    char, before = text[index], text[index - 1]
    if "\u200d" in (char, before) or unicodedata.category(char) in ("Mn", "Mc", "Me"):
        return True
    if any(ord(char) in attached for attached in _ATTACHED):
        return True
    if ord(char) in _REGIONAL and ord(before) in _REGIONAL:
        run = 0  # regional indicators pair up from the start of their run
        while index - run - 1 >= 0 and ord(text[index - run - 1]) in _REGIONAL:
            run += 1
        return run % 2 == 1
    return False


def _outside_sequence(text: str, cut: int, lowest: int) -> int:
    """Move a cut back to the start of the visible character it falls in, if not too far."""
    moved = cut
    while lowest < moved < len(text) and _joined(text, moved):
        moved -= 1
    return moved if moved > lowest else cut


def _outside_entity(text: str, cut: int) -> int:
    """Move a cut back so that it does not fall inside an escape like ``&amp;``."""
    amp = text.rfind("&", max(0, cut - 10), cut)
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
