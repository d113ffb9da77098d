"""What the bot says, as data: services build these, adapters render them.

A ``Reply`` is a list of parts, each either a ``Text`` (a catalogue key and its
parameters, translated for the recipient) or a ``Quote`` (someone's words or a
knowledge entry, shown as written), plus buttons. A button's action is a typed value
(helpdesk.domain.actions), written as the command a person could type, so a platform
without buttons can send the same command.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeAlias

from helpdesk.domain.actions import ChatAction, line, parse
from helpdesk.i18n.keys import Msg

__all__ = [
    "Button",
    "LanguageName",
    "Param",
    "Part",
    "Place",
    "Quote",
    "QuoteStyle",
    "Reply",
    "Text",
]


class QuoteStyle(StrEnum):
    PLAIN = "plain"  # a person's words
    TITLE = "title"  # a heading: an entry's title
    MARKDOWN = "markdown"  # an entry's answer, written in Markdown


@dataclass(frozen=True)
class Quote:
    text: str
    style: QuoteStyle = QuoteStyle.PLAIN


@dataclass(frozen=True)
class LanguageName:
    """A language, shown by its name in that language (``mk`` → македонски)."""

    code: str


@dataclass(frozen=True)
class Place:
    """Where a practice or a person is from: the city as written, the country named in the
    reader's language (``Bosnia and Herzegovina`` → Bosna i Hercegovina, Bosnjë-Hercegovinë)."""

    city: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Text:
    key: Msg
    params: Mapping[str, "Param"] = field(default_factory=dict)


# A parameter is a value shown as is, a nested sentence, or a list of sentences (one per line).
Param: TypeAlias = str | int | Text | Quote | LanguageName | Place | tuple[Text, ...]
Part: TypeAlias = Text | Quote


@dataclass(frozen=True)
class Button:
    label: Part
    action: ChatAction

    @property
    def line(self) -> str:
        """The action as written: ``/feedback 12 helpful``."""
        return line(self.action)


@dataclass(frozen=True)
class Reply:
    parts: tuple[Part, ...]
    buttons: tuple[Button, ...] = ()
    ref: str | None = None  # what a reply to this message is about, e.g. "ticket:12"
    # People (by id) whose personal data the reply shows besides its recipient's: an
    # official's question quoted to an expert, a name in a list for staff. Kept beside
    # the stored message, not in it, so that erasing one of them finds it.
    mentions: tuple[int, ...] = ()
    # Deleted from the outbox once delivered: the goodbye after "forget me" keeps no
    # address behind.
    ephemeral: bool = False
    # Its buttons confirm something that cannot be undone: they lapse with the next
    # message rather than waiting to be chosen later (see services/choices.py).
    confirms: bool = False

    @classmethod
    def say(cls, key: Msg, /, **params: Param) -> "Reply":
        """A reply of one sentence."""
        return cls((Text(key, params),))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "parts": [_part_to_json(p) for p in self.parts],
            "buttons": [{"label": _part_to_json(b.label), "action": b.line} for b in self.buttons],
            "ref": self.ref,
        }
        if self.ephemeral:
            data["ephemeral"] = True
        if self.confirms:
            data["confirms"] = True
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Reply":
        return cls(
            parts=tuple(_part_from_json(p) for p in data["parts"]),
            buttons=tuple(_button_from_json(b) for b in data["buttons"]),
            ref=data.get("ref"),
            ephemeral=bool(data.get("ephemeral", False)),
            confirms=bool(data.get("confirms", False)),
        )


def _button_from_json(data: Mapping[str, Any]) -> Button:
    action = parse(str(data["action"]))
    if action is None:
        raise ValueError(f"not a button's action: {data['action']!r}")
    return Button(_part_from_json(data["label"]), action)


def _part_to_json(part: Part) -> dict[str, Any]:
    if isinstance(part, Quote):
        return {"quote": part.text, "style": part.style.value}
    return {"key": part.key.value, "params": {k: _param_to_json(v) for k, v in part.params.items()}}


def _param_to_json(value: Param) -> Any:
    if isinstance(value, LanguageName):
        return {"language": value.code}
    if isinstance(value, Place):
        return {"place": {"city": value.city, "country": value.country}}
    if isinstance(value, Text | Quote):
        return _part_to_json(value)
    if isinstance(value, tuple):
        return [_part_to_json(v) for v in value]
    return value


def _part_from_json(data: Mapping[str, Any]) -> Part:
    if "quote" in data:
        return Quote(str(data["quote"]), QuoteStyle(data["style"]))
    return Text(Msg(data["key"]), {k: _param_from_json(v) for k, v in data["params"].items()})


def _param_from_json(value: Any) -> Param:
    if isinstance(value, dict) and "language" in value:
        return LanguageName(str(value["language"]))
    if isinstance(value, dict) and "place" in value:
        where = value["place"]
        return Place(where.get("city"), where.get("country"))
    if isinstance(value, dict):
        return _part_from_json(value)
    if isinstance(value, list):
        return tuple(t for t in (_part_from_json(v) for v in value) if isinstance(t, Text))
    if isinstance(value, int | str):
        return value
    return str(value)
