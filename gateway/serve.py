"""`podium up`: the whole system and the gateway in one process.

Starts the database, projections and runtime (gateway.system), the live log
feed and the HTTP server; prints the URL; on Ctrl-C or SIGTERM, stops the
server, interrupts working agents (recorded as such), flushes every event
and stops the embedded database.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import ipaddress
import logging
import logging.handlers
import os
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import uvicorn

from gateway.app import create_app
from gateway.broadcast import BroadcastDeltas, log_channel, open_broadcast, relaying
from gateway.http_server import HttpServer
from gateway.live_events import LiveEvents
from gateway.log_publisher import LogPublisher
from gateway.reads import read_model_pool
from gateway.routes import Routes
from gateway.same_origin import ServedNames, public_origin
from gateway.system import System, SystemConfig
from projections.event_view import LogView
from summarizer.api import quiet_request_logs

logger = logging.getLogger("podium")


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    token: str | None
    session_id: UUID | None
    broadcast_url: str
    logging_dir: Path  # where podium.log is written
    public_url: str | None = None  # where people reach podium, when not at host:port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


KEPT_HOURS = 7 * 24  # hourly files kept (a week)


class PrivateHourlyFile(logging.handlers.TimedRotatingFileHandler):
    """A log file that starts anew every hour (UTC), each file 0600: what
    agents did, and any error's detail, is for the user who runs podium."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, when="H", utc=True, backupCount=KEPT_HOURS, encoding="utf-8")

    def _open(self) -> io.TextIOWrapper:
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(descriptor, 0o600)  # a file made before podium kept them private
        return open(descriptor, "a", encoding=self.encoding)


def setup_logging(logging_dir: Path) -> Path:
    """podium's logging to the console and to hourly files in ``logging_dir``
    (0700); returns the current file's path."""
    logging_dir.mkdir(parents=True, exist_ok=True)
    logging_dir.chmod(0o700)
    path = logging_dir / "podium.log"
    formatter = logging.Formatter("%(asctime)sZ %(levelname)s %(name)s: %(message)s")
    formatter.converter = time.gmtime
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    quiet_request_logs()
    for handler in (logging.StreamHandler(sys.stderr), PrivateHourlyFile(path)):
        handler.setFormatter(formatter)
        root.addHandler(handler)
    return path


@dataclass
class RunningGateway:
    system: System
    server: HttpServer
    url: str  # the base URL, with the port actually bound
    token: str | None


@contextlib.asynccontextmanager
async def running_gateway(
    config: SystemConfig, options: ServeOptions
) -> AsyncIterator[RunningGateway]:
    """podium with its HTTP server listening; everything stops in order on exit."""
    token = options.token
    reachable_beyond_loopback = options.public_url is not None or not is_loopback(options.host)
    if token is None and reachable_beyond_loopback:
        token = secrets.token_urlsafe(24)  # never serve beyond this machine without one
    public = public_origin(options.public_url) if options.public_url else None
    broadcast = open_broadcast(options.broadcast_url)
    tail = LiveEvents()
    channel = log_channel()
    async with (
        broadcast,
        relaying(broadcast, tail, channel),
        System(config, live=BroadcastDeltas(broadcast)) as system,
        contextlib.AsyncExitStack() as stack,
    ):
        # The gateway's own connections: its reads never wait for the runtime's.
        log_view = LogView(system.conninfo)
        await asyncio.to_thread(log_view.open)
        stack.callback(log_view.close)
        read_models = read_model_pool(system.conninfo)
        await read_models.open(wait=True)
        stack.push_async_callback(read_models.close)
        feed = LogPublisher(log_view, broadcast, channel)
        await feed.start()
        stack.push_async_callback(feed.stop)
        tail.start_at(feed.position)
        routes = Routes(system.app, log_view, read_models, tail, config.cwd)
        server = HttpServer(
            uvicorn.Config(
                create_app(routes, read_models, ServedNames(options.host, public), token),
                host=options.host,
                port=options.port,
                log_level="warning",
                lifespan="off",
            )
        )
        await server.start()
        try:
            if options.session_id is not None:
                await _resume(system, options.session_id)
            host = f"[{options.host}]" if ":" in options.host else options.host  # IPv6
            yield RunningGateway(system, server, f"http://{host}:{server.port}", token)
        finally:
            logger.info("podium is shutting down: interrupting working agents")
            await server.stop()


async def serve(config: SystemConfig, options: ServeOptions) -> None:
    """Run until Ctrl-C or SIGTERM."""
    async with running_gateway(config, options) as running:
        url = (options.public_url or running.url).rstrip("/") + "/"
        if options.session_id is not None:
            url += f"sessions/{options.session_id}"
        logger.info("podium is up: %s", url)  # never with the token: logs are read by many
        if running.token:
            url += f"?token={running.token}"
        print(f"podium: open {url}", file=sys.stderr, flush=True)
        await _until_stopped(running.server)


async def _until_stopped(server: uvicorn.Server) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    while not stop.is_set() and not server.should_exit:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)


async def _resume(system: System, session_id: UUID) -> None:
    await asyncio.to_thread(
        system.app.resume_session, session_id, "resumed with podium up --session"
    )
