"""HTML the way Telegram parses it: tags to entities, lengths in UTF-16 code units."""

import string
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from tests.servers.telegram.errors import JSON, bad


class HtmlError(ValueError):
    """Telegram's reason for refusing a text's HTML (after "can't parse entities: ")."""


_SPACE = " \t\r\n\v\f"
# fmt: off
_TAGS = frozenset({
    "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "code", "pre", "blockquote", "tg-emoji",
})
# fmt: on
_PLAIN_ENTITY = {  # tag -> entity type; a, blockquote and tg-emoji are built separately
    **dict.fromkeys(["b", "strong"], "bold"),
    **dict.fromkeys(["i", "em"], "italic"),
    **dict.fromkeys(["u", "ins"], "underline"),
    **dict.fromkeys(["s", "strike", "del"], "strikethrough"),
    **dict.fromkeys(["span", "tg-spoiler"], "spoiler"),
    "code": "code",
    "pre": "pre",
}
ENTITY_FIELDS = frozenset({"type", "offset", "length"})
# fmt: off
_ENTITY_TYPES = frozenset({
    "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold",
    "italic", "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote",
    "code", "pre", "text_link", "text_mention", "custom_emoji",
})
# fmt: on
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_len(text: str) -> int:
    """Telegram measures text (limits, entity offsets) in UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _decode_entity(html: str, i: int) -> tuple[str, int] | None:
    """The character an ``&...`` at ``i`` stands for, and where it ends; None if it is text.

    Like TDLib: only &lt; &gt; &amp; &quot; and numeric references are decoded, the ``;`` is
    optional, and anything else (``&nbsp;``, a bare ``&``) stays literally in the text.
    """
    n = len(html)
    j = i + 1
    if html.startswith("#", j):
        hexadecimal = html.startswith("#x", j)
        digits = string.hexdigits if hexadecimal else string.digits
        j = start = j + (2 if hexadecimal else 1)
        while j < n and html[j] in digits:
            j += 1
        if j == start or j - i >= 10:
            return None
        code = int(html[start:j], 16 if hexadecimal else 10)
        if code == 0 or code >= 0x10FFFF:
            return None
        char = chr(code)
    else:
        while j < n and html[j].isascii() and html[j].isalpha():
            j += 1
        name = html[i + 1 : j]
        if name not in _NAMED_ENTITIES:
            return None
        char = _NAMED_ENTITIES[name]
    if j < n and html[j] == ";":
        j += 1
    return char, j


def normalize_url(url: str) -> str | None:
    """The URL Telegram would store for a link, or None where it silently drops the link."""
    url = url.strip(_SPACE)
    if not url or any(c in _SPACE for c in url):
        return None
    if url.startswith("tg://"):
        return url
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https", "ftp") or not ("." in host or host == "localhost"):
        return None
    return urlunsplit(parts._replace(path=parts.path or "/"))


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    offset: int  # UTF-16 offset in the parsed text where the tag's content starts
    index: int  # index in the list of output characters, to read the content back


def parse_html(html: str) -> tuple[str, list[JSON]]:
    """Plain text and entities of an HTML-formatted message, or HtmlError as Telegram words it.

    Follows TDLib's parse_html: supported tags only, properly nested, ``</>`` closes anything,
    attributes quoted or bare; error offsets are in UTF-8 bytes, entity offsets in UTF-16.
    """
    out: list[str] = []
    offset = 0
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    i, n = 0, len(html)

    def at(pos: int) -> int:
        return len(html[:pos].encode("utf-8", "surrogatepass"))

    while i < n:
        char = html[i]
        if char != "<":
            decoded = _decode_entity(html, i) if char == "&" else None
            piece, i = decoded if decoded else (char, i + 1)
            out.append(piece)
            offset += utf16_len(piece)
            continue
        begin = i
        if html.startswith("</", i):
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {at(begin)}")
            j = i + 2
            while j < n and html[j] not in _SPACE and html[j] != ">":
                j += 1
            name = html[i + 2 : j].lower()
            while j < n and html[j] in _SPACE:
                j += 1
            if j >= n or html[j] != ">":
                raise HtmlError(f"Unclosed end tag at byte offset {at(begin)}")
            tag = stack.pop()
            if name and name != tag.name:
                raise HtmlError(
                    f'Unmatched end tag at byte offset {at(begin)}, expected "</{tag.name}>", '
                    f'found "</{name}>"'
                )
            entity = _entity(tag, offset, "".join(out[tag.index :]))
            if entity is not None:
                entities.append(entity)
            i = j + 1
            continue
        j = i + 1
        while j < n and html[j] not in _SPACE and html[j] != ">":
            j += 1
        if j >= n:
            raise HtmlError(f"Unclosed start tag at byte offset {at(begin)}")
        name = html[i + 1 : j].lower()
        if name not in _TAGS:
            raise HtmlError(f'Unsupported start tag "{name}" at byte offset {at(begin)}')
        attrs, i = _attributes(html, j, name, at(begin), at)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {at(begin)}')
        stack.append(_OpenTag(name, attrs, offset, len(out)))
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    text = "".join(out)
    try:  # a lone surrogate from &#xD83D; is not text; a decoded pair joins into one character
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:
        raise HtmlError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        ) from None
    return text, _merge_code_language(entities)


def _attributes(
    html: str, j: int, tag: str, begin: int, at: Callable[[int], int]
) -> tuple[dict[str, str], int]:
    """The attributes of a start tag whose name ends at ``j``, and the index after its ``>``."""
    attrs: dict[str, str] = {}
    n = len(html)
    unclosed = HtmlError(f"Unclosed start tag at byte offset {begin}")
    while True:
        while j < n and html[j] in _SPACE:
            j += 1
        if j >= n:
            raise unclosed
        if html[j] == ">":
            return attrs, j + 1
        start = j
        while j < n and html[j] not in _SPACE and html[j] not in "=>":
            j += 1
        name = html[start:j].lower()
        if not name:
            raise HtmlError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        while j < n and html[j] in _SPACE:
            j += 1
        if j >= n:
            raise unclosed
        if html[j] != "=":  # a bare attribute, like <blockquote expandable>
            attrs[name] = ""
            continue
        j += 1
        while j < n and html[j] in _SPACE:
            j += 1
        if j >= n:
            raise HtmlError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if html[j] in "\"'":
            quote, value = html[j], []
            j += 1
            while j < n and html[j] != quote:
                decoded = _decode_entity(html, j) if html[j] == "&" else None
                piece, j = decoded if decoded else (html[j], j + 1)
                value.append(piece)
            if j >= n:
                raise unclosed
            attrs[name] = "".join(value)
            j += 1
        else:
            start = j
            while j < n and ((html[j].isascii() and html[j].isalnum()) or html[j] in ".-"):
                j += 1
            if j < n and html[j] not in _SPACE and html[j] != ">":
                raise HtmlError(f"Unexpected end of name token at byte offset {at(start)}")
            attrs[name] = html[start:j].lower()


def _entity(tag: _OpenTag, end: int, content: str) -> JSON | None:
    """The MessageEntity a closed tag makes; None for empty ones and links Telegram drops."""
    length = end - tag.offset
    if length <= 0:
        return None
    entity: JSON = {"offset": tag.offset, "length": length}
    if tag.name == "a":
        url = normalize_url(tag.attrs.get("href") or content)
        return None if url is None else {"type": "text_link", **entity, "url": url}
    if tag.name == "blockquote":
        expandable = "expandable" in tag.attrs
        return {"type": "expandable_blockquote" if expandable else "blockquote", **entity}
    if tag.name == "tg-emoji":
        emoji_id = tag.attrs.get("emoji-id")
        return {"type": "custom_emoji", **entity, "custom_emoji_id": emoji_id} if emoji_id else None
    entity = {"type": _PLAIN_ENTITY[tag.name], **entity}
    language = tag.attrs.get("class", "").removeprefix("language-")
    if tag.name == "code" and tag.attrs.get("class", "").startswith("language-") and language:
        entity["_language"] = language
    return entity


def _merge_code_language(entities: list[JSON]) -> list[JSON]:
    """``<pre><code class="language-x">`` over the same text is one pre entity with a language."""
    pres = {(e["offset"], e["length"]): e for e in entities if e["type"] == "pre"}
    merged: list[JSON] = []
    for entity in entities:
        language = entity.pop("_language", None)
        pre = pres.get((entity["offset"], entity["length"]))
        if language and pre is not None:
            pre["language"] = language
            continue
        merged.append(entity)
    return sorted(merged, key=lambda e: (e["offset"], -e["length"]))


def trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram strips surrounding whitespace from a message; entities move and shrink along."""
    stripped = text.strip(_SPACE)
    if not stripped:
        return "", []
    lead = utf16_len(text[: len(text) - len(text.lstrip(_SPACE))])
    total = utf16_len(stripped)
    kept: list[JSON] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --- what tests see ----------------------------------------------------------------------------


def check_entities(text: str, entities: list[JSON]) -> None:
    """Entities given with a text (no parse_mode): a known type, and offset and length in
    UTF-16 code units within the text, as TDLib checks them before trimming the text."""
    total = utf16_len(text)
    for entity in entities:
        offset, length = entity["offset"], entity["length"]
        if entity["type"] not in _ENTITY_TYPES:
            raise bad("can't parse MessageEntity: Unsupported type specified")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise bad("can't parse message entities JSON object")
        if offset < 0:
            raise bad(f"receive an entity with incorrect offset {offset}")
        if length < 0:
            raise bad(f"receive an entity with incorrect length {length}")
        if length == 0:
            continue
        if offset > total:
            raise bad(f"entity begins after the end of the text at UTF-16 offset {offset}")
        if offset + length > total:
            raise bad(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text "
                f"at UTF-16 offset {offset + length}"
            )
