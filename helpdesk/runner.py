"""What ``python bot.py`` runs: the configured chat adapters in one asyncio loop, with the
outbox relay delivering their replies; or, with no adapter configured, the console.

Every adapter implements ``helpdesk.adapters.contract`` and is kept serving by its
``keep_serving``; this module gives each what it needs and nothing more."""

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TextIO

from pydantic import SecretStr
from pythonjsonlogger.json import JsonFormatter

from helpdesk.adapters.console import ConsoleChat
from helpdesk.adapters.contract import ChatAdapter, Handler, Inbound, Transport, keep_serving
from helpdesk.bootstrap import App, bootstrap, ensure_local_people, import_knowledge_if_empty
from helpdesk.scheduling import DueActionScheduler
from helpdesk.services.delivery import OutboxRelay, deliver_pending
from helpdesk.settings import Settings, SettingsError, load_settings
from helpdesk.storage.database import DatabaseError
from helpdesk.web_commands import http_servers

__all__ = ["main", "open_console"]

log = logging.getLogger(__name__)

_PATIENCE = 10.0  # seconds given at shutdown to the work in hand


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value else None


def _handler(app: App) -> Handler:
    """The core's handler (it hands the replies it queued to the relay)."""

    async def handle(inbound: Inbound) -> None:
        await app.helpdesk.handle(inbound)

    return handle


def _adapters(app: App, settings: Settings) -> list[ChatAdapter]:
    # Each platform's library is imported only when it is configured: a bot on one platform
    # starts half a second sooner, and a missing library for the other does not matter.
    adapters: list[ChatAdapter] = []
    handle = _handler(app)
    if settings.telegram_token is not None:
        from helpdesk.adapters.telegram import TelegramAdapter, TelegramSettings

        adapters.append(
            TelegramAdapter(
                TelegramSettings(
                    token=settings.telegram_token.get_secret_value(),
                    base_url=settings.telegram_base_url,
                    webhook_url=settings.telegram_webhook_url,
                    webhook_listen=settings.telegram_webhook_listen,
                    webhook_port=settings.telegram_webhook_port,
                    webhook_secret=_secret(settings.telegram_webhook_secret),
                    staff_chat_id=settings.telegram_staff_chat_id,
                ),
                app.translator,
                handle,
            )
        )
    if settings.matrix_configured:
        assert settings.matrix_homeserver and settings.matrix_user_id
        from helpdesk.adapters.matrix import MatrixAdapter, MatrixSettings

        adapters.append(
            MatrixAdapter(
                MatrixSettings(
                    homeserver=settings.matrix_homeserver,
                    user_id=settings.matrix_user_id,
                    store_path=settings.matrix_store_path,
                    password=_secret(settings.matrix_password),
                    access_token=_secret(settings.matrix_access_token),
                ),
                app.translator,
                handle,
            )
        )
    return adapters


def _readiness(adapter: "ChatAdapter") -> Callable[[], bool]:
    return lambda: adapter.ready


def _scheduler(app: App, settings: Settings, wake: Callable[[], None]) -> DueActionScheduler:
    retention = timedelta(days=settings.retention_days) if settings.retention_days else None
    return DueActionScheduler(
        app.uow,
        app.clock,
        app.helpdesk.timings,
        settings.scheduler_interval,
        wake,
        retention=retention,
    )


async def serve(app: App, settings: Settings) -> int:
    """Run every configured adapter until SIGINT or SIGTERM."""
    transports: dict[str, Transport] = {}
    relay = OutboxRelay(app.uow, transports, app.clock)
    app.helpdesk.on_queued = relay.hand  # each message's replies go at once
    adapters = _adapters(app, settings)
    scheduler = _scheduler(app, settings, relay.wake)
    transports.update({a.platform: a for a in adapters})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    tasks = [
        asyncio.create_task(
            keep_serving(a, stop, on_ready=relay.wake), name=f"adapter-{a.platform}"
        )
        for a in adapters
    ]
    delivering = asyncio.create_task(relay.run(stop), name="outbox-relay")
    tasks.append(delivering)
    scheduler.start()
    http = await http_servers(app, settings, relay.wake, adapters)
    log.info("running: %s", ", ".join(a.platform for a in adapters))
    try:
        done, _ = await asyncio.wait(
            [*tasks, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        for task in done:
            if task in tasks and task.exception() is not None:
                log.error("%s stopped: %s", task.get_name(), task.exception())
                return 1
        return 0
    finally:
        stop.set()
        await http.close()
        await scheduler.shutdown(_PATIENCE)
        # Receiving stops at once (a long poll or a sync is cut short); the messages in
        # hand are finished, then the relay's round, so that no transaction is cut in the
        # middle. Cut ones would roll back and be done again at the next start, but leave
        # errors in the log.
        receiving = [task for task in tasks if task is not delivering]
        for task in receiving:
            task.cancel()
        for task in receiving:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await app.helpdesk.drain(_PATIENCE)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(delivering, timeout=_PATIENCE)
        for adapter in adapters:
            await adapter.close()


async def open_console(
    app: App, *, stdin: TextIO | None = None, out: TextIO | None = None
) -> ConsoleChat:
    """The console chat with its local people, wired to the helpdesk and the outbox."""

    async def deliver(transport: Transport) -> int:
        return await deliver_pending(app.uow, {transport.platform: transport}, app.clock)

    people = await ensure_local_people(app)
    return ConsoleChat(app.helpdesk.handle, deliver, app.translator, people, stdin=stdin, out=out)


async def run(settings: Settings) -> int:
    app = await bootstrap(settings)
    try:
        report = await import_knowledge_if_empty(app)
        if report is not None:
            print(
                f"Imported {len(report.created)} knowledge entries from {settings.knowledge_dir}.",
                file=sys.stderr,
            )
        if app.knowledge.embedder is not None:
            print(
                "Preparing the matcher (embedding what no cache holds yet)...",
                file=sys.stderr,
            )
        await app.knowledge.refresh()
        # The language identifier's models, loaded now rather than at the first message.
        await asyncio.to_thread(app.helpdesk.languages.load)
        if settings.matrix_configured or settings.telegram_configured:
            return await serve(app, settings)
        chat = await open_console(app)
        # Reminders and follow-ups in the console too: set the durations to seconds to
        # watch a ticket's life on one screen.
        scheduler = _scheduler(app, settings, chat.wake)
        scheduler.start()
        http = await http_servers(app, settings, chat.wake, [])
        try:
            await keep_serving(chat, asyncio.Event())
        finally:
            await http.close()
            await scheduler.shutdown()
            await chat.close()
    finally:
        await app.close()
    return 0


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    console = not (settings.matrix_configured or settings.telegram_configured)
    # In the console the chat is the screen: keep the log to warnings unless asked otherwise.
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", timestamp=True)
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(
        level=max(level, logging.WARNING)
        if console and settings.log_level.upper() == "INFO"
        else level,
        handlers=[handler],
    )
    # Third-party libraries log request URLs (with tokens in them) at INFO: keep them quiet.
    for noisy in ("nio", "aiohttp", "httpx", "httpcore", "telegram", "apscheduler", "peewee"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    try:
        return asyncio.run(run(settings))
    except DatabaseError as error:
        print(f"database: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
