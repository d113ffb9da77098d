"""The translation layer: message keys, reply data, and rendering for a language."""

from helpdesk.i18n.keys import Msg
from helpdesk.i18n.messages import (
    Button,
    LanguageName,
    Param,
    Part,
    Place,
    Quote,
    QuoteStyle,
    Reply,
    Text,
)
from helpdesk.i18n.translator import (
    DEFAULT_LANGUAGE,
    RenderedReply,
    Translator,
    country_name,
    language_name,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "Button",
    "LanguageName",
    "Msg",
    "Param",
    "Part",
    "Place",
    "Quote",
    "QuoteStyle",
    "RenderedReply",
    "Reply",
    "Text",
    "Translator",
    "country_name",
    "language_name",
]
