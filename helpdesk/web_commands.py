"""The web console's wiring and its commands: ``helpdesk web serve`` (the console alone,
on the bot's database, without chat adapters) and ``helpdesk web link PERSON_ID`` (a
one-time sign-in link, for the first member of staff). ``python bot.py`` serves the
console through ``http_servers``.

Kept in one module beside ``helpdesk.cli``, which registers the ``web`` group."""

import asyncio
import signal
import sys
from collections.abc import Callable

import click

from helpdesk.adapters.contract import ChatAdapter
from helpdesk.bootstrap import App, bootstrap
from helpdesk.domain.limits import MAX_ROW_ID
from helpdesk.services.context import Context
from helpdesk.services.refusals import Refused
from helpdesk.services.web_access import issue_link, sign_in_url
from helpdesk.settings import Settings, SettingsError, load_settings
from helpdesk.storage.database import DatabaseError
from helpdesk.web.app import Console
from helpdesk.web.server import HttpServers, start_http

__all__ = ["http_servers", "web", "web_console"]


def web_console(app: App, settings: Settings, wake: Callable[[], None]) -> Console | None:
    """The web console of this process, or None when HELPDESK_WEB_PORT is 0."""
    if not settings.web_port:
        return None
    deep_link = None
    if settings.telegram_token is not None:
        from helpdesk.adapters.telegram import TelegramSettings
        from helpdesk.adapters.telegram import deep_link as telegram_link

        telegram = TelegramSettings(
            settings.telegram_token.get_secret_value(), settings.telegram_base_url
        )

        async def deep_link_for(code: str) -> str | None:
            return await telegram_link(telegram, code)

        deep_link = deep_link_for
    return Console(
        uow=app.uow,
        clock=app.clock,
        translator=app.translator,
        public_url=settings.public_web_url,
        timings=app.helpdesk.timings,
        write_entry=app.helpdesk.write_entry,
        knowledge_changed=app.helpdesk.knowledge.changed,
        invite_valid_for=settings.invite_valid_for,
        wake=wake,
        deep_link=deep_link,
    )


async def http_servers(
    app: App, settings: Settings, wake: Callable[[], None], adapters: list[ChatAdapter]
) -> HttpServers:
    """The console, /health and /metrics, as the settings ask."""
    return await start_http(
        console=web_console(app, settings, wake),
        web_listen=settings.web_listen,
        web_port=settings.web_port,
        metrics_listen=settings.metrics_listen,
        metrics_port=settings.metrics_port,
        database_ok=app.database.ping,
        adapters={a.platform: _ready(a) for a in adapters},
    )


def _ready(adapter: ChatAdapter) -> Callable[[], bool]:
    return lambda: adapter.ready


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@click.group()
def web() -> None:
    """The web console for staff (HELPDESK_WEB_PORT, HELPDESK_WEB_URL)."""


@web.command("serve")
def web_serve() -> None:
    """Serve the web console alone, on the bot's database, until Ctrl-C.

    Answers written here reach officials when the bot (python bot.py) runs."""
    settings = _settings()
    if not settings.web_port:
        raise click.ClickException("HELPDESK_WEB_PORT is 0: the web console is switched off")

    async def run() -> int:
        app = await bootstrap(settings)
        try:
            servers = await http_servers(app, settings, lambda: None, [])
            try:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signum, stop.set)
                click.echo(f"web console at {settings.public_web_url} (Ctrl-C stops it)")
                await stop.wait()
            finally:
                await servers.close()
        finally:
            await app.close()
        return 0

    try:
        sys.exit(asyncio.run(run()))
    except DatabaseError as error:
        raise click.ClickException(f"database: {error}") from None


@web.command("link")
@click.argument("person_id", type=click.IntRange(1, MAX_ROW_ID))
def web_link(person_id: int) -> None:
    """Print a one-time sign-in link for a member of staff or an expert (valid 15 minutes);
    the link is the last line."""
    settings = _settings()

    async def run() -> str:
        app = await bootstrap(settings)
        try:
            async with app.uow() as uow:
                person = await uow.people.get(person_id)
                if person is None or person.erased_at is not None:
                    raise click.ClickException(f"There is no person #{person_id}.")
                token = await issue_link(Context(uow, app.clock(), app.helpdesk.timings), person)
                await uow.commit()
            return token
        except Refused as refused:
            message = app.translator.translate(refused.key, "en", refused.params)
            raise click.ClickException(message) from None
        finally:
            await app.close()

    try:
        token = asyncio.run(run())
    except DatabaseError as error:
        raise click.ClickException(f"database: {error}") from None
    if not settings.web_port and settings.web_url is None:
        click.echo("note: HELPDESK_WEB_PORT is 0 here; the link works where the console runs")
    click.echo("Open this within 15 minutes; it works once:")
    click.echo(sign_in_url(settings.public_web_url, token))
