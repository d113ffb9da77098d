"""The health endpoint and Prometheus metrics, on HELPDESK_METRICS_PORT when it is set,
and on the web console's server when that port is not another one.

``GET /health`` answers 200 with what is up, or 503 when the database cannot be reached
or a chat adapter is not connected: a load balancer or systemd watchdog takes the worker
out. ``GET /metrics`` is Prometheus's text format (see ``helpdesk.services.metrics``).
Bound to 127.0.0.1 unless HELPDESK_METRICS_LISTEN says otherwise: nothing here is for the
public internet.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["HealthServer"]

log = logging.getLogger(__name__)


class HealthServer:
    def __init__(
        self,
        listen: str,
        port: int,
        database_ok: Callable[[], Awaitable[bool]],
        adapters: Mapping[str, Callable[[], bool]],
        app: web.Application | None = None,
    ) -> None:
        self._app = app  # another application to serve these on (the web console)
        self._listen = listen
        self._port = port
        self._database_ok = database_ok
        self._adapters = adapters
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = self._app if self._app is not None else web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._listen, self._port).start()
        log.info("http server on %s port %d", self._listen, self._port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _health(self, _request: web.Request) -> web.Response:
        try:
            database = await asyncio.wait_for(self._database_ok(), timeout=5)
        except Exception:
            database = False
        adapters = {name: ready() for name, ready in self._adapters.items()}
        healthy = database and all(adapters.values())
        body = {
            "status": "ok" if healthy else "unavailable",
            "database": "ok" if database else "unreachable",
            "adapters": {name: "ready" if up else "not ready" for name, up in adapters.items()},
        }
        return web.json_response(body, status=200 if healthy else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
