"""Numbered choices: what "1" means when someone answers with a number.

Where a platform has no buttons (Matrix, the console), or someone types the number
anyway, a number picks one of the choices of the last message they were shown. Each
person keeps a short stack of the messages with choices they were sent, newest last:

- a number acts only on the newest one, and only while it is the last thing they saw;
  after any other message it is stale, and a number then shows it again (saying so)
  instead of acting on something they did not just read;
- making a choice, by number, button or typed command, closes the message it came from;
  an older one that is about a ticket (an expert's answer to rate, a follow-up) is then
  shown again, so that nothing waiting becomes unreachable;
- choices that confirm something that cannot be undone (erasing one's data) expire with
  the next message.
"""

from dataclasses import dataclass, replace

from helpdesk.i18n import Msg, Reply, Text

__all__ = ["Menu", "Menus", "menu_of", "offered", "reshown", "resolved", "still_open"]

_KEPT = 5  # older choices than this are dropped


@dataclass(frozen=True)
class Menu:
    """The choices of one message: its buttons, with its first part and ``ref`` to show
    them again."""

    reply: Reply
    confirms: bool = False

    @property
    def actions(self) -> tuple[str, ...]:
        """Its buttons' actions, written out (what a number picks)."""
        return tuple(b.line for b in self.reply.buttons)


@dataclass(frozen=True)
class Menus:
    """A person's open choices, oldest first; ``live`` when the newest is the last
    message they were sent."""

    stack: tuple[Menu, ...] = ()
    live: bool = False

    def choice(self, number: int) -> str | None:
        """The action behind ``number``, if it is one of the last message's choices."""
        if not self.live or not self.stack:
            return None
        actions = self.stack[-1].actions
        return actions[number - 1] if 1 <= number <= len(actions) else None

    @property
    def waiting(self) -> Menu | None:
        """The newest open choices to show again (never a confirmation: those lapse)."""
        return next((m for m in reversed(self.stack) if not m.confirms), None)

    def stale(self) -> "Menus":
        """Another message was shown: numbers no longer point at the newest choices, and
        confirmations lapse."""
        return Menus(tuple(m for m in self.stack if not m.confirms), live=False)


def menu_of(reply: Reply) -> Menu:
    """What is kept of a reply with buttons: its first part, buttons and ref."""
    kept = Reply(reply.parts[:1], buttons=reply.buttons, ref=reply.ref)
    return Menu(kept, confirms=reply.confirms)


def offered(menus: Menus, reply: Reply) -> Menus:
    """A message with choices was sent: it is the newest, and live."""
    menu = menu_of(reply)
    older = tuple(m for m in menus.stale().stack if m.actions != menu.actions)
    return Menus((*older, menu)[-_KEPT:], live=True)


def resolved(menus: Menus, action: str) -> Menus:
    """A choice was made: the message it belongs to is closed."""
    kept = tuple(m for m in menus.stack if action not in m.actions)
    top_kept = bool(kept) and bool(menus.stack) and kept[-1] is menus.stack[-1]
    return replace(menus, stack=kept, live=menus.live and top_kept)


def reshown(menu: Menu) -> Reply:
    """Open choices shown again: what they were about, and the same buttons."""
    return Reply(
        (Text(Msg.CHOICES_STILL_OPEN), *menu.reply.parts),
        buttons=menu.reply.buttons,
        ref=menu.reply.ref,
    )


def still_open(menus: Menus) -> Menu | None:
    """After a choice, an older message still waiting for one that is about a ticket."""
    return next((m for m in reversed(menus.stack) if m.reply.ref), None)
