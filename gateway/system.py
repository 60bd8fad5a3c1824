"""Everything podium runs in one process, started and stopped in order.

The database (embedded, or DATABASE_URL), the schema, the projection runner,
the agent runtime with its transcript store, the summarizer, and in demo
mode the model double that stands in for the Anthropic API. Stopping reverses the order:
working agents are interrupted and recorded as such, every event is flushed,
then the database stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from eventlog.postgres import open_podium
from eventlog.system_logging import RECORDED, lifecycle, shipping
from gateway.database import default_data_dir, open_database
from projections.runner import ProjectionRunner
from projections.schema import migrate
from runtime.deltas import DeltaSink
from runtime.model_double import ModelDouble, cli_env
from runtime.runtime import ALLOW_ALL_NOTICE, Runtime
from runtime.sandbox import Confinement, private_loopback
from runtime.session_store import PostgresSessionStore
from runtime.settings import RuntimeSettings
from summarizer.api import ApiSettings
from summarizer.consumer import SummarizerSettings, summarizing

logger = logging.getLogger(__name__)


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
    # Hosts agents' commands may reach (Claude Code's sandbox; demo mode adds
    # the model double's); none by default.
    allowed_domains: tuple[str, ...] = ()
    scenario: Path | None = None  # the model double's script in demo mode (None: the demo's)
    approval_timeout: float = 3600.0  # seconds before a request nobody decided on expires
    allow_all: bool = False  # `--permissions allow-all`: no tool asks (recorded, said loudly)
    # The AI summaries of agents' events (None: `--summaries off`).
    summarizer: SummarizerSettings | None = field(default_factory=SummarizerSettings)


class System:
    """`async with System(config) as system:` runs podium until the block ends."""

    def __init__(self, config: SystemConfig, live: DeltaSink | None = None) -> None:
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
        allowed_domains = list(config.allowed_domains)
        if config.demo:
            # On an address of its own, so allowing it lets agents reach nothing else.
            host = private_loopback()
            self.double = await stack.enter_async_context(ModelDouble(config.scenario, host=host))
            env = cli_env(self.double, config.data_dir / "demo-home")
            env["NO_PROXY"] = env["no_proxy"] = f"{host},{env['NO_PROXY']}"
            allowed_domains.append(host)
        confinement = Confinement.here(
            data_dir=config.data_dir,
            allowed_domains=allowed_domains,
            web_fetch_preflight=not config.demo,
        )
        self.app = open_podium(self.conninfo)
        stack.callback(self.app.close)
        stack.enter_context(shipping(self.app.write_system_log))
        for notice in (confinement.notice, ALLOW_ALL_NOTICE if config.allow_all else None):
            if notice is not None:
                print(notice, file=sys.stderr, flush=True)
                # The runtime records allow-all itself, with what it allows.
                logger.warning(notice, extra=RECORDED if notice is ALLOW_ALL_NOTICE else None)

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
            approval_timeout=config.approval_timeout,
            allow_all=config.allow_all,
            session_store=self.transcripts,
            confinement=confinement,
        )
        self.runtime = Runtime(self.app, self.conninfo, settings, self.live)
        await self.runtime.start()
        stack.push_async_callback(self.runtime.stop)
        if config.summarizer is not None:
            # On the same API settings as the agents' (the model double's in demo mode).
            api = ApiSettings.from_env(env, proxies_from_env=not config.demo)
            await stack.enter_async_context(
                summarizing(self.app, self.conninfo, config.summarizer, api)
            )
        stack.callback(
            lifecycle, logger, "podium is stopping: agents are interrupted, the log flushed"
        )
        lifecycle(
            logger,
            "podium started (%s mode, %s PostgreSQL)",
            "demo" if config.demo else "real",
            "its own" if config.database_url is None else "the given",
        )
