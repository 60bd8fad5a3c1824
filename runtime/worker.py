"""One worker agent's Claude Code session: one turn at a time, connected lazily,
read continuously.

The agent's commands wait in its aggregate, in order (``Agent.waiting``, from
the log); the worker runs them one turn each, so a command sent while the
agent works is not merged into the turn in progress, and commands a restart
left waiting run when the runtime starts again. The client connects on the
agent's first command and is reused for the next ones. Its messages are read
by a task of its own for as long as it is connected, whether anyone watches
or not: the SDK buffers only so many messages, and the CLI's hooks and MCP
calls stall when nobody reads. An idle agent hibernates (its CLI process
closes); its next command resumes the same Claude session from the session
store. So does a turn whose agent's rules (its session's, its template's, its
own) or budget changed since its CLI process started: the process is started
anew under what the log now holds (runtime/approvals.py answers what it asks
meanwhile from the log as well).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NamedTuple

from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient, ResultMessage
from claude_agent_sdk.types import CanUseToolShadowedWarning

from domain.agent import Agent
from domain.agent_rules import WaitingCommand
from domain.application import Podium
from domain.budget import Spend
from domain.errors import DomainError
from domain.statuses import AgentStatus
from runtime.agent_recording import AgentRecording
from runtime.approvals import Decisions, agent_layers
from runtime.clients import close_client
from runtime.confinement import check_directory
from runtime.deltas import DeltaSink
from runtime.journal import Journal
from runtime.sandbox import agent_environment
from runtime.settings import RuntimeSettings

logger = logging.getLogger(__name__)
# By design an agent's allowed tools skip can_use_tool and only the others are
# asked for; the SDK warns about exactly that whenever a client connects.
warnings.filterwarnings("ignore", category=CanUseToolShadowedWarning)


class Terms(NamedTuple):
    """What a CLI process is started with that the log can change meanwhile."""

    settings: str  # the CLI's flag settings: the merged permission rules
    budget_usd: float | None  # the agent's budget (the process is given what is left)


class AgentWorker:
    def __init__(
        self,
        app: Podium,
        agent: Agent,
        settings: RuntimeSettings,
        live: DeltaSink,
        slots: asyncio.Semaphore,
        *,
        session_cwd: Path,
        on_turn_completed: Callable[[Agent], Awaitable[None]],
        decisions: Decisions,
    ) -> None:
        self.journal = Journal(app, agent)
        self.settings = settings
        self.slots = slots
        # Refused at creation already when it is not; checked again here, at the edge.
        cwd = check_directory(Path(agent.cwd), session_cwd)
        self.recording = AgentRecording(
            self.journal, cwd, live, on_turn_completed, decisions=decisions, settings=settings
        )
        self.client: ClaudeSDKClient | None = None
        self._reader: asyncio.Task[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._turn_done = asyncio.Event()
        self._turn_done.set()
        self._lifecycle = asyncio.Lock()  # connect, start a turn and close one at a time
        self._closed = False  # deleted, or the runtime stops: no further turn
        self._terms: Terms | None = None  # what the connected CLI process was started with
        self.last_active = time.monotonic()

    @property
    def agent(self) -> Agent:
        return self.journal.aggregate

    @property
    def busy(self) -> bool:
        """A turn is in progress: from its start until its result."""
        return not self._turn_done.is_set()

    def options(self, terms: Terms) -> ClaudeAgentOptions:
        agent = self.agent
        confinement = self.settings.confinement
        return ClaudeAgentOptions(
            model=agent.model,
            system_prompt=agent.system_prompt or None,
            cwd=str(self.recording.cwd),
            # A template's tools are all its agent has; others may use any tool,
            # and are asked about those they are not pre-approved for.
            tools=list(agent.allowed_tools) if agent.template and agent.allowed_tools else None,
            allowed_tools=confinement.pre_approved(
                agent.allowed_tools or self.settings.worker_tools
            ),
            permission_mode=agent.permission_mode,  # type: ignore[arg-type]
            hooks=self.recording.hooks(),
            can_use_tool=self.recording.can_use_tool,
            include_partial_messages=True,
            env=agent_environment(self.settings.cli_env),
            sandbox=confinement.sandbox(),
            settings=terms.settings,
            resume=agent.claude_session_id,
            session_store=self.settings.session_store,
            # Each CLI process counts cost from zero: give it what is left of the
            # budget (a process started under another budget is started anew).
            max_budget_usd=agent.spend.left,
            # No settings from the workspace: a repository's .claude/settings.json
            # could run hooks outside the sandbox, or widen what it allows.
            setting_sources=[],
        )

    def wake(self) -> None:
        """Run the agent's waiting commands, in order, each its own turn (the
        commands are in the aggregate already: the runtime caught it up)."""
        if not self._closed and (self._runner is None or self._runner.done()):
            self._runner = asyncio.create_task(
                self._run_waiting(), name=f"{self.agent.name}: run waiting commands"
            )

    async def _run_waiting(self) -> None:
        try:
            while not self._closed and self.agent.waiting and not self.agent.is_deleted:
                async with self.slots:
                    await self._turn()
                    await self._turn_done.wait()
                self.last_active = time.monotonic()
        except Exception:  # the database is gone, say: the commands stay waiting in the log
            logger.exception("%s could not run its waiting commands", self.agent.name)

    async def _turn(self) -> None:
        """Start the first waiting command's turn and hand it to Claude Code (the
        agent may refuse: its budget is spent, and what waits is dropped)."""
        async with self._lifecycle:
            if self._closed or not self.agent.waiting or self.agent.is_deleted:
                return
            self._turn_done.clear()
            started: list[WaitingCommand | None] = []
            try:
                await self.journal.write(lambda a: started.append(a.start_turn()))
            except Exception as error:
                self._turn_done.set()  # no turn started
                if isinstance(error, DomainError | ValueError):
                    return  # deleted, or its waiting commands dropped, meanwhile
                raise
            command = started[-1]  # the last decision, if a conflict made it twice
            if command is None:
                self._turn_done.set()
                return
            try:
                await self._connect()
            except Exception as error:
                await self._fail(f"could not start Claude Code: {error}")
                return
            assert self.client is not None
            if self.agent.status is not AgentStatus.WORKING:  # interrupted while connecting
                self._turn_done.set()
                return
            try:
                await self.client.query(command.command)
            except Exception as error:  # the CLI died under us: say so, clearly
                await self._fail(f"could not send the command to Claude Code: {error}")

    async def interrupt(self, reason: str, task: str | None = None) -> None:
        """Stop the turn in progress (of ``task``, when given); the commands
        waiting after it then run."""
        if self.agent.is_deleted or not self.busy:
            return
        if task is not None and task != self.agent.task:
            return  # that turn is over already; this one was not asked to stop
        await self.journal.write(lambda a: a.interrupt(reason))
        await self.recording.give_up(f"the agent's turn was interrupted: {reason}")
        if self.client is None:
            return  # still connecting: the turn sees the interruption and ends
        with contextlib.suppress(Exception):
            await self.client.interrupt()
        try:  # the turn's result ends it (only then may the next one start)
            await asyncio.wait_for(self._turn_done.wait(), timeout=30)
        except TimeoutError:
            self._turn_done.set()  # Claude Code did not answer: the turn is over anyway

    async def stop_for_session(self, spend: Spend) -> None:
        """The session's budget is spent: the agent says so and drops what waits
        (Agent.stop_for_session), and its turn in progress is interrupted."""
        stopped: list[bool] = []
        await self.journal.write(lambda agent: stopped.append(agent.stop_for_session(spend)))
        if stopped[-1]:  # the last decision, if a conflict made it twice
            await self.interrupt(spend.reason("the session's"))

    async def hibernate(self) -> None:
        """Close the idle agent's CLI process; the next command resumes its session."""
        async with self._lifecycle:
            if self.client is None or self.busy or self.agent.waiting:
                return
            await self._disconnect()
            await self.journal.write(
                lambda a: a.hibernate("idle: its Claude Code process is closed")
            )

    async def stop(self, reason: str) -> None:
        """The runtime stops: interrupt the turn in progress (recorded) and close.
        Commands still waiting stay in the log and run when podium starts again."""
        self._closed = True
        await self.interrupt(reason)
        await self.close()

    async def close(self) -> None:
        """End the agent's process and its turns (it was deleted, or podium stops)."""
        self._closed = True
        async with self._lifecycle:
            await self._disconnect()
        self._turn_done.set()
        runner, self._runner = self._runner, None
        if runner is not None and runner is not asyncio.current_task():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner

    async def terms(self) -> Terms:
        """What the agent's CLI process is to be started with, as the log holds
        it now: the merged rules (podium's defaults, the session's, read fresh,
        the template's, the agent's) and the agent's budget. The aggregate is
        current: starting the turn saved to its stream, which another writer's
        newer event (a rule, a budget) would have refused until it was reloaded."""
        agent = self.agent
        session = await asyncio.to_thread(self.journal.app.get_session, agent.session_id)
        confinement = self.settings.confinement
        layers = agent_layers(session, agent)
        return Terms(
            confinement.settings(*layers, asking=not self.settings.allow_all), agent.budget_usd
        )

    async def _connect(self) -> None:
        terms = await self.terms()
        alive = self.client is not None and self._reader is not None and not self._reader.done()
        if alive and terms == self._terms:
            return
        # A CLI process that died, or one started under other rules or another
        # budget (a deny it must enforce, a raised budget): a new one resumes the session.
        await self._disconnect()
        self.recording.cwd.mkdir(parents=True, exist_ok=True)
        client = ClaudeSDKClient(self.options(terms))
        await client.connect()
        self.client, self._terms = client, terms
        self.recording.costs.restart()
        self._reader = asyncio.create_task(self._read(client), name=f"read {self.agent.name}")

    async def _read(self, client: ClaudeSDKClient) -> None:
        try:
            async for message in client.receive_messages():
                try:
                    await self.recording.message(message)
                except Exception:
                    logger.exception("could not record a message of %s", self.agent.name)
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
