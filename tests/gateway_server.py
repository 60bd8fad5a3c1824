"""podium up, in a thread of the test process: a real server on a free port."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from uuid import UUID

from domain.application import Podium
from gateway.loop import run as run_event_loop
from gateway.serve import RunningGateway, ServeOptions, running_gateway
from gateway.system import SystemConfig

T = TypeVar("T")


@dataclass
class Served:
    url: str
    conninfo: str
    app: Podium
    cwd: Path
    running: RunningGateway
    loop: asyncio.AbstractEventLoop
    stop: asyncio.Event


@contextmanager
def serve_in_thread(
    database_url: str,
    tmp_path: Path,
    token: str | None = None,
    public_url: str | None = None,
    session_id: UUID | None = None,
) -> Iterator[Served]:
    """`podium up --port 0 [--token T] [--public-url URL] [--session ID]` on the test's
    database, until the block ends."""
    os.chmod(tmp_path, 0o755)
    config = SystemConfig(
        cwd=tmp_path / "work", database_url=database_url, data_dir=tmp_path / "data", demo=True
    )
    options = ServeOptions(
        host="127.0.0.1",
        port=0,
        token=token,
        session_id=session_id,
        broadcast_url="memory://",
        logging_dir=tmp_path / "logs",
        public_url=public_url,
    )
    ready = threading.Event()
    served: list[Served] = []
    errors: list[BaseException] = []

    async def main() -> None:
        stop = asyncio.Event()
        async with running_gateway(config, options) as running:
            system = running.system
            served.append(
                Served(
                    running.url,
                    system.conninfo,
                    system.app,
                    config.cwd,
                    running,
                    asyncio.get_running_loop(),
                    stop,
                )
            )
            ready.set()
            await stop.wait()

    def run() -> None:
        try:
            run_event_loop(main())
        except BaseException as error:  # surfaced to the test
            errors.append(error)
            ready.set()

    thread = threading.Thread(target=run, name="podium up")
    thread.start()
    ready.wait(timeout=120)
    if errors:
        raise errors[0]
    try:
        yield served[0]
    finally:
        served[0].loop.call_soon_threadsafe(served[0].stop.set)
        thread.join(timeout=120)
    if errors:
        raise errors[0]


def until(check: Callable[[], T | None], timeout: float = 90) -> T:
    """Poll ``check`` until it returns something truthy (what it returned)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError("timed out")
