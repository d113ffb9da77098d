"""Why a use case did not do what it was asked: a message key and its parameters, so
that every entry point says it in the reader's language (the chat, the web console) or
in English (the command line)."""

from helpdesk.i18n import Msg, Param

__all__ = ["Refused"]


class Refused(Exception):
    """What was asked cannot be done; ``key`` and ``params`` say why, in words."""

    def __init__(self, key: Msg, /, **params: Param) -> None:
        super().__init__(key.value)
        self.key = key
        self.params = params
