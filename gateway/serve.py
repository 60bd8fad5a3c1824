"""`podium up`: the whole system and the gateway in one process.

Starts the database, projections and runtime (gateway.system), the live log
feed and the HTTP server; prints the URL; on Ctrl-C or SIGTERM, stops the
server, interrupts working agents (recorded as such), flushes every event
and stops the embedded database.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import uvicorn
from broadcaster import Broadcast

from gateway.app import create_app
from gateway.feed import BroadcastDeltas, LogFeed
from gateway.routes import Routes
from gateway.system import System, SystemConfig

log = logging.getLogger("podium")


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    token: str | None
    session_id: UUID | None
    broadcast_url: str
    log_dir: Path


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
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in (logging.StreamHandler(sys.stderr), logging.FileHandler(path)):
        handler.setFormatter(formatter)
        root.addHandler(handler)
    return path


async def serve(config: SystemConfig, options: ServeOptions) -> None:
    token = options.token
    if token is None and not is_loopback(options.host):
        token = secrets.token_urlsafe(24)  # never serve beyond this machine without one
    broadcast = Broadcast(options.broadcast_url)
    async with broadcast, System(config, live=BroadcastDeltas(broadcast)) as system:
        feed = LogFeed(system.conninfo, broadcast)
        await feed.start()
        try:
            if options.session_id is not None:
                await _resume(system, options.session_id)
            routes = Routes(system.app, system.conninfo, system.runtime.pool, broadcast, config.cwd)
            app = create_app(routes, token)
            server = uvicorn.Server(
                uvicorn.Config(
                    app,
                    host=options.host,
                    port=options.port,
                    log_level="warning",
                    lifespan="off",
                )
            )
            url = f"http://{options.host}:{options.port}/"
            if options.session_id is not None:
                url += f"sessions/{options.session_id}"
            if token:
                url += f"?token={token}"
            log.info("podium is up: %s", url)
            print(f"podium: open {url}", file=sys.stderr, flush=True)
            await server.serve()
        finally:
            log.info("podium is shutting down: interrupting working agents")
            await feed.stop()


async def _resume(system: System, session_id: UUID) -> None:
    session = await asyncio.to_thread(system.app.get_session, session_id)
    if session.status != "ended":
        session.resume("resumed with podium up --session")
        await asyncio.to_thread(system.app.save, session)
