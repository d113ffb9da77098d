"""Serving the web console: on the bot's HTTP server (``python bot.py``) or alone
(``helpdesk web serve``)."""

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from helpdesk.observability import HealthServer
from helpdesk.web.app import Console, console_app

__all__ = ["HttpServers", "start_http"]

log = logging.getLogger(__name__)


class HttpServers:
    """The HTTP servers of one process, closed together."""

    def __init__(self) -> None:
        self._servers: list[HealthServer] = []

    async def add(self, server: HealthServer) -> bool:
        """Start ``server``; False (and the reason logged) if its port cannot be had: the
        chat goes on without the console rather than not at all."""
        try:
            await server.start()
        except OSError as error:
            log.error("could not listen for HTTP: %s", error.strerror or error)
            await server.close()
            return False
        self._servers.append(server)
        return True

    async def close(self) -> None:
        for server in self._servers:
            await server.close()


async def start_http(
    *,
    console: Console | None,
    web_listen: str,
    web_port: int,
    metrics_listen: str,
    metrics_port: int | None,
    database_ok: Callable[[], Awaitable[bool]],
    adapters: Mapping[str, Callable[[], bool]],
) -> HttpServers:
    """The console on its port, with /health and /metrics on the same server unless
    HELPDESK_METRICS_PORT names another port (to keep them off a public interface)."""
    servers = HttpServers()
    shared = console is not None and metrics_port in (None, web_port)
    if console is not None:
        app = console_app(console, web.Application())
        await servers.add(HealthServer(web_listen, web_port, database_ok, adapters, app=app))
        log.info("web console at %s", console.public_url)
    if metrics_port is not None and not shared:
        await servers.add(HealthServer(metrics_listen, metrics_port, database_ok, adapters))
    return servers
