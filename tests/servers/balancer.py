"""A small HTTP load balancer for the Telegram webhook: round robin over several bot
workers, skipping one that does not answer (as any balancer with health checks does).
Used by the two-worker test and the load benchmark."""

from collections import Counter

import aiohttp
from aiohttp import web

from tests.servers.net import free_port

__all__ = ["LoadBalancer"]


class LoadBalancer:
    """Round robin over the workers' webhook ports; a worker that does not answer is
    skipped, as any load balancer with health checks does."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.port = free_port()
        self.turn = 0
        self.served: Counter[int] = Counter()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/hook"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/telegram/hook", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-telegram")}
        headers["Content-Type"] = "application/json"
        for _ in self.ports:
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
            try:
                async with self._session.post(
                    f"http://127.0.0.1:{port}/telegram/hook", data=body, headers=headers
                ) as answer:
                    if answer.status < 500:
                        self.served[port] += 1
                        return web.Response(status=answer.status, body=await answer.read())
            except aiohttp.ClientError:
                continue
        return web.Response(status=502)
