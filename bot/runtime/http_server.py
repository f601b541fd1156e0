"""An adapter's HTTP endpoint (a callback URL, a webhook) served by uvicorn inside the runner's
event loop: started and stopped with the other platforms, no signal handling of its own."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any, Literal

import uvicorn


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the runner stops every platform together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    def __init__(self, asgi: Any, host: str, port: int, *, name: str,
                 lifespan: Literal["on", "off"] = "on") -> None:
        self.name = name
        self._server = _Server(uvicorn.Config(asgi, host=host, port=port, log_level="warning",
                                              lifespan=lifespan))
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen; return once serving. A port in use is an OSError here (bound by us, not by
        uvicorn, whose own failure to bind is a sys.exit)."""
        config = self._server.config
        listening = socket.create_server((config.host, config.port))
        self._task = asyncio.create_task(self._server.serve(sockets=[listening]), name=self.name)
        while not self._server.started:
            if self._task.done():
                await self._task  # its error, or:
                raise RuntimeError(f"{self.name} did not start")
            await asyncio.sleep(0.02)

    def close(self) -> None:
        """Stop taking requests (those in hand go on)."""
        self._server.should_exit = True

    async def stop(self) -> None:
        if self._task is not None:
            self.close()
            await self._task
            self._task = None
