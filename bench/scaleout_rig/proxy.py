"""A round-robin reverse proxy on loopback, doing for the benchmark what nginx does in deploy/:
each request goes to the next worker with its headers and body, and the worker's answer comes
back as it is. A worker that refuses the connection (stopped, restarting) is skipped for the
next one, as nginx's ``proxy_next_upstream error`` does; one that fails after taking the request
gets a 502 back to the sender (who may retry; Telegram does), never a silent retry elsewhere."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

# Headers that belong to one connection, not to the request (RFC 9110, 7.6.1); ``Host`` is the
# upstream's, ``Content-Length`` is set again from the body.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                         "te", "trailer", "transfer-encoding", "upgrade", "host",
                         "content-length"})


@dataclass
class ProxyStats:
    forwarded: Counter[int] = field(default_factory=Counter)  # by upstream port
    skipped: Counter[int] = field(default_factory=Counter)  # connection refused: tried the next
    bad_gateway: int = 0  # no worker took it, or one failed after taking it


class RoundRobinProxy:
    def __init__(self) -> None:
        self.upstream_ports: list[int] = []  # set once the workers have their ports
        self.stats = ProxyStats()
        self._turn = 0
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30),
                                             auto_decompress=False)

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._client is not None and self.upstream_ports
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["X-Forwarded-For"] = request.remote or ""
        first, self._turn = self._turn, self._turn + 1
        for turn in range(len(self.upstream_ports)):
            port = self.upstream_ports[(first + turn) % len(self.upstream_ports)]
            try:
                async with self._client.request(
                        request.method, f"http://127.0.0.1:{port}{request.path_qs}",
                        headers=headers, data=body, allow_redirects=False) as answer:
                    content = await answer.read()
                    self.stats.forwarded[port] += 1
                    kept = {k: v for k, v in answer.headers.items()
                            if k.lower() not in _HOP_BY_HOP}
                    return web.Response(status=answer.status, headers=kept, body=content)
            except aiohttp.ClientConnectorError:
                self.stats.skipped[port] += 1  # nothing was sent: the next worker may have it
            except (aiohttp.ClientError, TimeoutError):
                break  # it may have acted on the request: the sender decides what follows
        self.stats.bad_gateway += 1
        return web.Response(status=502, text="bad gateway")
