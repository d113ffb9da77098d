"""What every command shares: opening the application around a command's body, and the
one-line failure that every mistake a user can make becomes (exit code 1, no traceback)."""

import asyncio
import getpass
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

import click

from helpdesk.bootstrap import App, bootstrap
from helpdesk.domain.limits import MAX_ROW_ID
from helpdesk.services.context import Context
from helpdesk.services.refusals import Refused
from helpdesk.settings import Settings, SettingsError, load_settings, parse_span
from helpdesk.storage.database import DatabaseError

__all__ = [
    "ROW_ID",
    "Failure",
    "at_most",
    "author",
    "in_transaction",
    "run",
    "run_app",
    "settings",
    "span",
    "split",
]

T = TypeVar("T")


class Failure(click.ClickException):
    """A one-line error for the user; exit code 1."""

    def format_message(self) -> str:
        return self.message


# Every number that names a row: the database holds no larger id (32 bits on PostgreSQL),
# and a larger one must be a usage error, not an overflow in the driver.
ROW_ID = click.IntRange(1, MAX_ROW_ID)


def at_most(length: int) -> Callable[[click.Context, click.Parameter, str | None], str | None]:
    """A text option no longer than the database column it goes into."""

    def check(_context: click.Context, _option: click.Parameter, value: str | None) -> str | None:
        if value is not None and len(value) > length:
            raise click.BadParameter(f"{len(value)} characters long; at most {length}")
        return value

    return check


def span(value: str, option: str, *, zero: bool = False) -> timedelta:
    """A duration option such as ``7d``; a bad one is a usage error naming the option."""
    try:
        return parse_span(value, zero=zero)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=option) from None


def split(value: str | None) -> tuple[str, ...]:
    """A comma-separated option as its items, blanks left out."""
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def author() -> str:
    """Who made a change from the command line: the operating-system user."""
    try:
        return f"{getpass.getuser()} (cli)"
    except (KeyError, OSError):
        return "cli"


def settings() -> Settings:
    """The settings, or a one-line failure naming what is wrong (never a secret's value)."""
    try:
        return load_settings()
    except SettingsError as error:
        raise Failure(str(error)) from None


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; a database that cannot be reached is one line."""
    try:
        return asyncio.run(coroutine)
    except DatabaseError as error:
        raise Failure(f"database: {error}") from None


def run_app(body: Callable[[App], Awaitable[T]]) -> T:
    """Run ``body`` with the application open (closed afterwards, whatever happens). A
    refusal by a use case is said in English in one line, as bad settings and an
    unreachable database are."""
    loaded = settings()

    async def opened() -> T:
        app = await bootstrap(loaded)
        try:
            return await body(app)
        except Refused as refused:
            raise Failure(app.translator.translate(refused.key, "en", refused.params)) from None
        finally:
            await app.close()

    return run(opened())


async def in_transaction(app: App, use_case: Callable[[Context], Awaitable[T]]) -> T:
    """Run a use case in one transaction, committed when it returns (rolled back when it
    raises: a refusal changes nothing)."""
    async with app.uow() as uow:
        result = await use_case(Context(uow, app.clock(), app.timings))
        await uow.commit()
    return result
