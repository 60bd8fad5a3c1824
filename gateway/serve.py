"""`podium up`: the whole system and the gateway in one process.

Starts the database, projections and runtime (gateway.system), the live log
feed and the HTTP server; prints the URL; on Ctrl-C or SIGTERM, stops the
server, interrupts working agents (recorded as such), flushes every event
and stops the embedded database.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import uvicorn

from gateway.app import create_app
from gateway.broadcast import BroadcastDeltas, log_channel, open_broadcast, relaying
from gateway.live_events import LiveEvents
from gateway.log_pages import log_reads
from gateway.log_publisher import LogPublisher
from gateway.routes import Routes
from gateway.same_origin import ServedNames, public_origin
from gateway.system import System, SystemConfig
from runtime.model_double.server import EmbeddedServer

log = logging.getLogger("podium")


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    token: str | None
    session_id: UUID | None
    broadcast_url: str
    log_dir: Path
    public_url: str | None = None  # where people reach podium, when not at host:port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def setup_logging(log_dir: Path) -> Path:
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "podium.log"
    # What agents did, and any error's detail, is for the user who runs podium alone.
    path.touch(mode=0o600)
    path.chmod(0o600)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in (logging.StreamHandler(sys.stderr), logging.FileHandler(path)):
        handler.setFormatter(formatter)
        root.addHandler(handler)
    return path


@dataclass
class RunningGateway:
    system: System
    server: EmbeddedServer
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
    ):
        feed = LogPublisher(system.conninfo, broadcast, channel)
        await feed.start()
        tail.start_at(feed.position)
        log_pages = log_reads(system.conninfo)
        await asyncio.to_thread(log_pages.open, wait=True)
        # podium owns Ctrl-C and SIGTERM, so shutdown runs in order.
        server = EmbeddedServer(
            uvicorn.Config(
                create_app(
                    Routes(system.app, log_pages, system.runtime.pool, tail, config.cwd),
                    ServedNames(options.host, public),
                    token,
                ),
                host=options.host,
                port=options.port,
                log_level="warning",
                lifespan="off",
            )
        )
        serving = asyncio.create_task(server.serve(), name="http")
        try:
            while not server.started:
                if serving.done():
                    serving.result()  # raises why it could not start (port in use, ...)
                    raise RuntimeError("the HTTP server stopped before it started")
                await asyncio.sleep(0.02)
            port = server.servers[0].sockets[0].getsockname()[1]
            if options.session_id is not None:
                await _resume(system, options.session_id)
            host = f"[{options.host}]" if ":" in options.host else options.host  # IPv6
            yield RunningGateway(system, server, f"http://{host}:{port}", token)
        finally:
            log.info("podium is shutting down: interrupting working agents")
            server.should_exit = True
            server.cut_open_streams()  # event streams never end by themselves
            await asyncio.gather(serving, return_exceptions=True)
            await feed.stop()
            await asyncio.to_thread(log_pages.close)


async def serve(config: SystemConfig, options: ServeOptions) -> None:
    """Run until Ctrl-C or SIGTERM."""
    async with running_gateway(config, options) as running:
        url = (options.public_url or running.url).rstrip("/") + "/"
        if options.session_id is not None:
            url += f"sessions/{options.session_id}"
        log.info("podium is up: %s", url)  # never with the token: logs are read by many
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
    session = await asyncio.to_thread(system.app.get_session, session_id)
    if session.status != "ended":
        session.resume("resumed with podium up --session")
        await asyncio.to_thread(system.app.save, session)
