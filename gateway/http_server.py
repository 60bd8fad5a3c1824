"""The gateway's HTTP server: uvicorn run inside podium, which owns the signals.

podium handles Ctrl-C and SIGTERM itself (gateway/serve.py), so that shutdown
runs in order: the server stops first, then the agents, the log, the database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn


class HttpServer(uvicorn.Server):
    """``await server.start()`` serves from the running loop; ``await server.stop()``."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._serving: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # uvicorn's own handlers would stop the server alone, out of order

    async def start(self) -> None:
        """Serve; return once listening, or raise why it could not (a port in use, ...)."""
        self._serving = serving = asyncio.create_task(self.serve(), name="http")
        while not self.started:
            if serving.done():
                serving.result()
                raise RuntimeError("the HTTP server stopped before it started")
            await asyncio.sleep(0.02)

    @property
    def port(self) -> int:
        """The port it listens on (the one the system chose, for port 0)."""
        port: int = self.servers[0].sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        """Stop serving, cutting open connections rather than waiting for them.

        uvicorn's shutdown lets a response in progress finish, and an event
        stream never does; a client that sees its connection drop is what a
        stopped server looks like.
        """
        self.should_exit = True
        for connection in list(self.server_state.connections):
            if (transport := getattr(connection, "transport", None)) is not None:
                transport.close()
        if self._serving is not None:
            await asyncio.gather(self._serving, return_exceptions=True)
