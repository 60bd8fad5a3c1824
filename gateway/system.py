"""Everything podium runs in one process, started and stopped in order.

The database (embedded, or DATABASE_URL), the schema, the projection runner,
the agent runtime with its transcript store, and in demo mode the model
double that stands in for the Anthropic API. Stopping reverses the order:
working agents are interrupted and recorded as such, every event is flushed,
then the database stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from domain.application import Podium
from gateway.database import default_data_dir, open_database
from projections.runner import ProjectionRunner
from projections.schema import migrate
from runtime.live import LiveFeed
from runtime.model_double import ModelDouble, cli_env
from runtime.runtime import Runtime
from runtime.session_store import PostgresSessionStore
from runtime.settings import RuntimeSettings


def demo_wanted(force_demo: bool) -> bool:
    """Demo mode when asked for, or when there is no API key to use."""
    return force_demo or not os.environ.get("ANTHROPIC_API_KEY")


@dataclass(frozen=True)
class SystemConfig:
    cwd: Path
    database_url: str | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    demo: bool = True
    max_agents: int = 8
    idle_seconds: float = 600.0


class System:
    """`async with System(config) as system:` runs podium until the block ends."""

    def __init__(self, config: SystemConfig, live: LiveFeed | None = None) -> None:
        self.config = config
        self.live = live
        self._stack = contextlib.AsyncExitStack()
        self.conninfo = ""
        self.double: ModelDouble | None = None

    async def __aenter__(self) -> System:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        config, stack = self.config, self._stack
        config.cwd.mkdir(parents=True, exist_ok=True)
        self.conninfo = stack.enter_context(open_database(config.database_url, config.data_dir))
        await asyncio.to_thread(migrate, self.conninfo)

        env: dict[str, str] = {}
        if config.demo:
            self.double = await stack.enter_async_context(ModelDouble())
            env = cli_env(self.double, config.data_dir / "demo-home")

        self.app = Podium(self.conninfo)
        stack.callback(self.app.close)

        self.projections = ProjectionRunner(self.conninfo)
        thread = threading.Thread(target=self.projections.run_forever, name="projections")
        thread.start()

        def stop_projections() -> None:
            self.projections.stop()
            thread.join()

        stack.callback(stop_projections)

        self.transcripts = await PostgresSessionStore.open(self.conninfo)
        stack.push_async_callback(self.transcripts.close)

        settings = RuntimeSettings(
            cwd=config.cwd.resolve(),
            cli_env=env,
            max_agents=config.max_agents,
            idle_seconds=config.idle_seconds,
            session_store=self.transcripts,
        )
        self.runtime = Runtime(self.app, self.conninfo, settings, self.live)
        await self.runtime.start()
        stack.push_async_callback(self.runtime.stop)
