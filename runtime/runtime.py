"""The runtime: reacts to commands in the log by running Claude Code agents.

It never receives calls from the gateway. It follows the log (LISTEN/NOTIFY)
from its tracked position and claims commands (runtime/claims.py) before
acting, so a command is executed at most once even across restarts. What it
acts on, and how, is one table (``Runtime.handlers``: event class ->
handler), which the claims read too. An
agent's commands wait in the log, in order, until its worker starts each
one's turn (runtime/worker.py). What a restart cut short is recorded: on
start-up, approval requests nobody here waits for any more are expired and
agents the log shows as working are recorded as interrupted, with the
reasons, and the commands they left waiting run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from uuid import UUID

from psycopg_pool import AsyncConnectionPool

from domain import agent as a
from domain import session as s
from domain.application import Podium
from domain.codec import PodiumEventType, state_decoder
from domain.errors import AlreadyDecided
from domain.events import Payload
from domain.statuses import BUSY, IN_TURN
from domain.vocabulary import Level
from eventlog.following import keep_following, listening
from eventlog.pool_checks import sweep_dead_async_connections
from eventlog.system_logging import RECORDED
from runtime.approvals import Decisions
from runtime.claims import CommandClaims
from runtime.confinement import check_directory
from runtime.deltas import DeltaSink, DroppedDeltas
from runtime.orchestrator import Orchestrator
from runtime.queries import OrchestratorReads
from runtime.settings import RuntimeSettings
from runtime.tools import ManagementTools
from runtime.worker import AgentWorker

logger = logging.getLogger(__name__)
RESTART_REASON = "podium restarted while the agent was working"
ANSWER_CUT_REASON = "podium restarted while the orchestrator was answering"
APPROVAL_CUT_REASON = "podium restarted while the agent waited for this decision"
ALLOW_ALL_NOTICE = (
    "podium: WARNING: --permissions allow-all: agents use every tool without asking anyone "
    "(only the deny rules for secrets and the sandbox still hold)"
)
STANDBY_POLL_SECONDS = 2.0  # how soon a standing-by runtime notices the leader is gone
# A command's stream, its version and its payload.
Handler = Callable[[UUID, int, Payload], Awaitable[None]]
UNFINISHED = "SELECT agent_id FROM agents WHERE status = ANY(%s) OR queued > 0"
PENDING_APPROVALS = "SELECT id FROM approvals WHERE status = 'pending' ORDER BY notification_id"


class Runtime:
    def __init__(
        self, app: Podium, conninfo: str, settings: RuntimeSettings, live: DeltaSink | None = None
    ) -> None:
        self.app = app
        self.conninfo = conninfo
        self.settings = settings
        self.live = live or DroppedDeltas()
        self.pool = AsyncConnectionPool(conninfo, min_size=1, max_size=8, open=False)
        sweep_dead_async_connections(self.pool)  # no dead connection after a PostgreSQL restart
        self.reads = OrchestratorReads(self.pool)
        self.decisions = Decisions(app, conninfo, settings.approval_timeout)
        # What the runtime acts on: the commands it claims are these events.
        self.handlers: Mapping[PodiumEventType, Handler] = {
            s.UserMessageSent: self._answer,
            a.AgentCommanded: self._run_commands,
            a.AgentInterruptRequested: self._interrupt,
            a.AgentDeleted: self._close,
        }
        self.claims = CommandClaims(conninfo, self.handlers)
        self.slots = asyncio.Semaphore(settings.max_agents)
        self.workers: dict[UUID, AgentWorker] = {}
        self.orchestrators: dict[UUID, Orchestrator] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    # --- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        await self.pool.open()
        await asyncio.to_thread(self.claims.ensure_position)
        if self.settings.allow_all:  # recorded: who looks at the log sees nothing was asked
            context = {"permissions": "allow-all"}
            await asyncio.to_thread(
                self.app.write_system_log, Level.WARNING, ALLOW_ALL_NOTICE, context
            )
        self._loops = [
            asyncio.create_task(self._follow_log(), name="runtime: follow the log"),
            asyncio.create_task(self._hibernate_idle(), name="runtime: hibernate idle agents"),
        ]

    async def stop(self, reason: str = "podium is shutting down") -> None:
        """Interrupt working agents (recorded), close every client, stop following."""
        self._stopping.set()
        for loop in self._loops:
            loop.cancel()
        for worker in list(self.workers.values()):
            with contextlib.suppress(Exception):
                await worker.stop(reason)
        for orchestrator in list(self.orchestrators.values()):
            with contextlib.suppress(Exception):
                await orchestrator.interrupt(reason)
            await orchestrator.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._loops, *self._tasks, return_exceptions=True)
        await asyncio.to_thread(self.claims.close)
        await self.pool.close()

    async def recover(self) -> None:
        """Record as expired the approval requests a previous runtime waited for,
        and as interrupted what it left working: agents, and orchestrators cut
        mid-answer (not what this runtime is running itself); then run the
        commands agents were left waiting with."""
        await self.reads.caught_up(timeout=30)
        async with self.pool.connection() as conn:
            cur = await conn.execute(PENDING_APPROVALS)
            pending = [row[0] for row in await cur.fetchall()]
            cur = await conn.execute(UNFINISHED, ([status.value for status in BUSY],))
            unfinished = [row[0] for row in await cur.fetchall()]
        for approval_id in set(pending) - self.decisions.waited_for:
            with contextlib.suppress(AlreadyDecided):  # decided meanwhile: that stands
                await asyncio.to_thread(self.app.expire_approval, approval_id, APPROVAL_CUT_REASON)
                logger.info("expired approval request %s: %s", approval_id, APPROVAL_CUT_REASON)
        for agent_id in unfinished:
            worker = await self._worker(agent_id)
            if worker is None:
                continue
            if worker.agent.status in IN_TURN and not worker.busy:
                await worker.journal.write(lambda a: a.interrupt(RESTART_REASON))
                logger.info("recorded %s as interrupted: %s", worker.agent.name, RESTART_REASON)
            worker.wake()
        unanswered = await asyncio.to_thread(self.claims.unanswered_sessions)
        for session_id in unanswered - self.orchestrators.keys():
            await asyncio.to_thread(self.app.cut_answer_short, session_id, ANSWER_CUT_REASON)
            logger.info(
                "recorded session %s's answer as cut short: %s", session_id, ANSWER_CUT_REASON
            )

    # --- following the log ------------------------------------------------------

    async def _follow_log(self) -> None:
        """Lead, then react to commands as they are appended, for as long as the
        runtime runs: a lost database connection is retried, not its end."""
        await keep_following(self._lead_then_react, "the runtime")

    async def _lead_then_react(self) -> None:
        if not await asyncio.to_thread(self.claims.lead):
            logger.warning("another podium runtime acts on this database's commands; standing by")
            while not await asyncio.to_thread(self.claims.lead):
                await asyncio.sleep(STANDBY_POLL_SECONDS)
            logger.warning("this runtime now acts on the database's commands")
        await self.recover()
        await self._react_to_commands()

    async def _react_to_commands(self) -> None:
        async with listening(self.conninfo, "podium runtime") as appends:
            while not self._stopping.is_set():
                commands = await asyncio.to_thread(self.claims.claim)
                for notification_id, stream_id, version, topic, state in commands:
                    try:
                        await self._dispatch(stream_id, version, topic, state)
                    except Exception:
                        logger.exception("could not react to event %s", notification_id)
                if not commands:
                    await appends.wait()

    async def _dispatch(self, stream_id: UUID, version: int, topic: str, state: bytes) -> None:
        decoder = state_decoder(topic)  # the event's class and its payload's decoder
        await self.handlers[decoder.event_class](stream_id, version, decoder.decode(state).payload)

    # --- the handlers -----------------------------------------------------------

    async def _answer(self, session_id: UUID, version: int, payload: Payload) -> None:
        assert isinstance(payload, s.UserMessageSentV1)
        try:
            orchestrator = await self._orchestrator(session_id)
        except ValueError as error:  # a session made before directories were checked
            said = f"session {session_id} is not answered: its directory {error}"
            logger.error("%s", said, extra=RECORDED)
            await asyncio.to_thread(self.app.write_system_log, Level.ERROR, said, None, session_id)
            return
        self._spawn(orchestrator.answer(payload.text), f"answer in {session_id}")

    async def _run_commands(self, agent_id: UUID, version: int, payload: Payload) -> None:
        if worker := await self._caught_up(agent_id, version):
            worker.wake()

    async def _interrupt(self, agent_id: UUID, version: int, payload: Payload) -> None:
        assert isinstance(payload, a.AgentInterruptRequestedV1)
        if worker := await self._caught_up(agent_id, version):
            await worker.interrupt(f"interrupted by the {payload.source}", payload.task)

    async def _close(self, agent_id: UUID, version: int, payload: Payload) -> None:
        if worker := await self._caught_up(agent_id, version):
            self.workers.pop(agent_id, None)
            await worker.close()

    async def _caught_up(self, agent_id: UUID, version: int) -> AgentWorker | None:
        """The agent's worker, its aggregate up to the command at ``version``."""
        worker = await self._worker(agent_id)
        if worker is not None:
            await worker.journal.catch_up(version)
        return worker

    def _spawn(self, work: object, name: str) -> None:
        async def guarded() -> None:
            try:
                await work  # type: ignore[misc]
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.exception("%s failed", name, extra=RECORDED)
                await asyncio.to_thread(
                    self.app.write_system_log, Level.ERROR, f"{name} failed: {error}"
                )

        task = asyncio.create_task(guarded(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _worker(self, agent_id: UUID) -> AgentWorker | None:
        """The agent's worker; None (and its commands dropped, recorded) for an
        agent whose session lies outside the workspace, which no agent may use."""
        worker = self.workers.get(agent_id)
        if worker is None:
            agent = await asyncio.to_thread(self.app.get_agent, agent_id)
            try:
                session_cwd = await self._session_directory(agent.session_id)
            except ValueError as error:
                await asyncio.to_thread(self.app.drop_waiting, agent_id, str(error))
                return None
            worker = AgentWorker(
                self.app,
                agent,
                self.settings,
                self.live,
                self.slots,
                session_cwd=session_cwd,
                on_turn_completed=self._enforce_session_budget,
                decisions=self.decisions,
            )
            self.workers[agent_id] = worker
        return worker

    async def _session_directory(self, session_id: UUID) -> Path:
        """Where the session's agents work: inside the workspace, or ValueError."""
        session = await asyncio.to_thread(self.app.get_session, session_id)
        return check_directory(Path(session.cwd), self.settings.cwd)

    async def _enforce_session_budget(self, agent: a.Agent) -> None:
        """After a turn: warn at 50, 75 and 90% of the session's budget (recorded);
        when its spend reaches the budget, stop its busy agents (each records
        why and drops what waits: Agent.stop_for_session)."""
        spend = await asyncio.to_thread(self.app.warn_session_budget, agent.session_id)
        if not spend.exhausted:
            return
        for worker in list(self.workers.values()):
            if worker.agent.session_id == agent.session_id:
                await worker.stop_for_session(spend)

    async def _orchestrator(self, session_id: UUID) -> Orchestrator:
        orchestrator = self.orchestrators.get(session_id)
        if orchestrator is None:
            session = await asyncio.to_thread(self.app.get_session, session_id)
            cwd = await self._session_directory(session_id)
            tools = ManagementTools(self.app, session_id, self.reads, cwd)
            orchestrator = Orchestrator(self.app, session, self.settings, tools, self.live, cwd=cwd)
            self.orchestrators[session_id] = orchestrator
        return orchestrator

    async def _hibernate_idle(self) -> None:
        period = max(0.2, min(self.settings.idle_seconds / 4, 5.0))
        while True:
            await asyncio.sleep(period)
            for worker in list(self.workers.values()):
                idle_for = time.monotonic() - worker.last_active
                connected = worker.client is not None
                if connected and not worker.busy and idle_for > self.settings.idle_seconds:
                    await worker.hibernate()
