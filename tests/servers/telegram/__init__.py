"""A stand-in for the Telegram Bot API server, as strict as Telegram's documentation:
``server`` (the HTTP server and its simulated users), ``html`` (text and entities the way
Telegram parses them), ``errors`` (Telegram's refusals)."""

from tests.servers.telegram.errors import ApiError
from tests.servers.telegram.html import HtmlError, parse_html, utf16_len
from tests.servers.telegram.server import BotApiServer, SentMessage, SimUser, buttons

__all__ = [
    "ApiError",
    "BotApiServer",
    "HtmlError",
    "SentMessage",
    "SimUser",
    "buttons",
    "parse_html",
    "utf16_len",
]
