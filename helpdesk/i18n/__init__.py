"""The translation layer: message keys, reply data, and rendering for a language."""

from helpdesk.i18n.keys import Msg
from helpdesk.i18n.messages import Button, LanguageName, Param, Part, Quote, QuoteStyle, Reply, Text
from helpdesk.i18n.translator import (
    DEFAULT_LANGUAGE,
    RenderedReply,
    Translator,
    language_name,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "Button",
    "LanguageName",
    "Msg",
    "Param",
    "Part",
    "Quote",
    "QuoteStyle",
    "RenderedReply",
    "Reply",
    "Text",
    "Translator",
    "language_name",
]
