"""One worker agent's Claude Code session: connected lazily, read continuously.

The client connects on the agent's first command and is reused for the next
ones. Its messages are read by a task of its own for as long as it is
connected, whether anyone watches or not: the SDK buffers only so many
messages, and the CLI's hooks and MCP calls stall when nobody reads. An idle
agent hibernates (its CLI process closes); its next command resumes the same
Claude session from the session store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient, ResultMessage
from claude_agent_sdk.types import CanUseToolShadowedWarning

from domain.agent import Agent
from domain.application import Podium
from runtime.agent_recording import AgentRecording
from runtime.clients import close_client
from runtime.confinement import check_directory
from runtime.journal import Journal
from runtime.live import LiveFeed
from runtime.settings import RuntimeSettings

log = logging.getLogger(__name__)
# By design an agent's allowed tools skip can_use_tool and only the others are
# asked for; the SDK warns about exactly that whenever a client connects.
warnings.filterwarnings("ignore", category=CanUseToolShadowedWarning)


class AgentWorker:
    def __init__(
        self,
        app: Podium,
        agent: Agent,
        settings: RuntimeSettings,
        live: LiveFeed,
        slots: asyncio.Semaphore,
        *,
        on_turn_completed: Callable[[Agent], Awaitable[None]],
    ) -> None:
        self.journal = Journal(app, agent)
        self.settings = settings
        self.slots = slots
        # Refused at creation already when it is not; checked again here, at the edge.
        cwd = check_directory(Path(agent.cwd), settings.cwd)
        self.recording = AgentRecording(self.journal, cwd, live, on_turn_completed)
        self.client: ClaudeSDKClient | None = None
        self._reader: asyncio.Task[None] | None = None
        self._turn_done = asyncio.Event()
        self._turn_done.set()
        self._lifecycle = asyncio.Lock()  # connect, run and close one at a time
        self.last_active = time.monotonic()

    @property
    def agent(self) -> Agent:
        return self.journal.aggregate

    @property
    def busy(self) -> bool:
        return not self._turn_done.is_set()

    def options(self) -> ClaudeAgentOptions:
        agent = self.agent
        return ClaudeAgentOptions(
            model=agent.model,
            system_prompt=agent.system_prompt or None,
            cwd=str(self.recording.cwd),
            # A template's tools are all its agent has; others may use any tool,
            # and are asked about those they are not pre-approved for.
            tools=list(agent.allowed_tools) if agent.template and agent.allowed_tools else None,
            allowed_tools=list(agent.allowed_tools or self.settings.worker_tools),
            permission_mode=agent.permission_mode,  # type: ignore[arg-type]
            hooks=self.recording.hooks(),
            can_use_tool=self.recording.can_use_tool,
            include_partial_messages=True,
            env=self.settings.cli_env,
            resume=agent.claude_session_id,
            session_store=self.settings.session_store,
            # Each CLI process counts cost from zero: give it what is left of the budget.
            max_budget_usd=agent.budget_left,
            setting_sources=["project"],
        )

    async def run(self, command: str) -> None:
        """Run one command to the end of its turn (the command is already in the log)."""
        if self.slots.locked():
            await self.journal.write(
                lambda a: a.change_status("queued", "waiting for a free agent slot")
            )
        async with self.slots:
            async with self._lifecycle:
                if self.agent.is_deleted:
                    return
                await self._connect()
                assert self.client is not None
                if self.agent.status != "working":
                    await self.journal.write(lambda a: a.change_status("working", "started"))
                self._turn_done.clear()
                try:
                    await self.client.query(command)
                except Exception as error:  # the CLI died under us: say so, clearly
                    await self._fail(f"could not send the command to Claude Code: {error}")
            await self._turn_done.wait()
        self.last_active = time.monotonic()

    async def interrupt(self, reason: str) -> None:
        """Stop the current turn; the agent takes new commands afterwards."""
        if self.agent.is_deleted or self.agent.status in ("idle", "hibernating"):
            return
        await self.journal.write(lambda a: a.interrupt(reason))
        if self.client is not None and self.busy:
            with contextlib.suppress(Exception):
                await self.client.interrupt()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._turn_done.wait(), timeout=30)
        self._turn_done.set()

    async def hibernate(self) -> None:
        """Close the idle agent's CLI process; the next command resumes its session."""
        async with self._lifecycle:
            if self.client is None or self.busy:
                return
            await self._disconnect()
            await self.journal.write(
                lambda a: a.change_status("hibernating", "idle: its Claude Code process is closed")
            )

    async def close(self) -> None:
        async with self._lifecycle:
            await self._disconnect()
        self._turn_done.set()

    async def _connect(self) -> None:
        if self.client is not None and self._reader is not None and not self._reader.done():
            return
        await self._disconnect()  # a CLI process that died: start a new one
        self.recording.cwd.mkdir(parents=True, exist_ok=True)
        client = ClaudeSDKClient(self.options())
        try:
            await client.connect()
        except Exception as error:
            await self._fail(f"could not start Claude Code: {error}")
            raise
        self.client = client
        self.recording.costs.restart()
        self._reader = asyncio.create_task(self._read(client), name=f"read {self.agent.name}")

    async def _read(self, client: ClaudeSDKClient) -> None:
        try:
            async for message in client.receive_messages():
                try:
                    await self.recording.message(message)
                except Exception:
                    log.exception("could not record a message of %s", self.agent.name)
                if isinstance(message, ResultMessage):
                    self.last_active = time.monotonic()
                    self._turn_done.set()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if self.busy:
                await self._fail(f"Claude Code stopped unexpectedly: {error}")
        finally:
            self._turn_done.set()

    async def _fail(self, error: str) -> None:
        with contextlib.suppress(Exception):
            await self.journal.write(lambda a: a.fail(error))
        self._turn_done.set()

    async def _disconnect(self) -> None:
        client, reader = self.client, self._reader
        self.client, self._reader = None, None
        await close_client(client, reader)
