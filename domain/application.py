"""The application service: the commands of podium's write side, the one way
to save.

Every adapter (the gateway's routes, the orchestrator's tools, the runtime,
the CLI) calls these methods; each loads the aggregates it needs, lets them
decide, and saves their new events. A save another writer beat (the store
refuses a version taken meanwhile) is decided again on fresh state, under
one retry policy (``Conflicts``), whether it was decided here (``decide``)
or by the runtime on an aggregate it keeps (``decide_async``). Saves go
through group commit, so concurrent writers share transactions.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import (
    BaseAggregate,
    DomainEvent,
    DomainEventProtocol,
    MutableOrImmutableAggregate,
)
from eventsourcing.persistence import (
    IntegrityError,
    Mapper,
    Notification,
    Recording,
)

from domain.agent import Agent
from domain.approval import Approval
from domain.budget import Spend, session_spend
from domain.codec import MsgspecTranscoder, PayloadMapper
from domain.errors import AgentNotFound, ApprovalNotFound, DuplicateAgentName, SessionNotFound
from domain.members import SessionAgents
from domain.names import agent_stream_id, check_agent_name
from domain.ports import AsyncRecorder
from domain.session import Session
from domain.statuses import SessionStatus
from domain.system_log import SystemLog, system_log_id

A = TypeVar("A", bound=BaseAggregate[UUID])
R = TypeVar("R")
CONFLICT_RETRIES = 3


class Conflicts:
    """The retry policy of every save: when another writer appended to the
    aggregate first, decide again on its fresh state, up to CONFLICT_RETRIES
    times; then the conflict is the caller's (the gateway answers 409)."""

    def __init__(self) -> None:
        self.left = CONFLICT_RETRIES

    def retry(self, conflict: IntegrityError) -> None:
        if self.left == 0:
            raise conflict
        self.left -= 1


class Podium(Application[UUID]):
    """Sessions, agents and the system log, recorded in one event store."""

    name = "Podium"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        """``env``: eventsourcing's settings; none is an in-memory store (for
        tests of the rules). Processes open it on PostgreSQL with
        ``eventlog.postgres.open_podium``."""
        super().__init__(env)
        self._system_log_lock = threading.Lock()
        self._system_log: SystemLog | None = None
        self.session_agents = SessionAgents(self.recorder, self.mapper)

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=MsgspecTranscoder(), mapper_class=PayloadMapper)

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """Put the new events of the given aggregates in the store; eventsourcing's save.

        eventsourcing's steps, written out so that ``save_async`` shares them,
        and lighter: ``ProcessingEvent.collect_events`` asks ``isinstance`` of
        two runtime-checkable Protocols per object, which on Python 3.11 costs
        ~16 µs a save, about what the domain methods that made a turn's events
        cost. eventsourcing's notify hooks are not called: nothing in podium
        implements them, because everything that reacts to new events follows
        the store instead (projections, the runtime, the gateway's feed).
        """
        processing_event = self._collect(objs)
        stored_events = [self.mapper.to_stored_event(e) for e in processing_event.events]
        ids = self.recorder.insert_events(stored_events, **kwargs) or []
        self._saved(processing_event)
        return [
            Recording(
                event,
                Notification(
                    id=notification_id,
                    originator_id=stored.originator_id,
                    originator_version=stored.originator_version,
                    topic=stored.topic,
                    state=stored.state,
                ),
            )
            for event, stored, notification_id in zip(
                processing_event.events, stored_events, ids, strict=True
            )
        ]

    async def save_async(
        self, *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None
    ) -> Sequence[int]:
        """``save`` for asyncio code (the runtime): awaits the group commit
        instead of parking a thread on it. Returns the events' notification
        ids, in order (the runtime needs no more; a Recording per event would
        cost a quarter of the CPU a recorded event takes)."""
        processing_event = self._collect(objs)
        stored_events = [self.mapper.to_stored_event(e) for e in processing_event.events]
        recorder = self.recorder
        if isinstance(recorder, AsyncRecorder):
            ids = await recorder.insert_events_async(stored_events)
        else:
            inserted = await asyncio.to_thread(lambda: recorder.insert_events(stored_events))
            ids = list(inserted or ())
        self._saved(processing_event)
        return ids

    @staticmethod
    def _collect(
        objs: tuple[MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None, ...],
    ) -> ProcessingEvent[UUID]:
        """The given events, and the new events of the given aggregates, in order.

        Aggregates and events are told apart by their classes, not by
        eventsourcing's runtime-checkable Protocols (see ``save``); anything
        else goes eventsourcing's way.
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, DomainEvent):
                processing_event.events.append(obj)
            elif isinstance(obj, BaseAggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        return processing_event

    def _saved(self, processing_event: ProcessingEvent[UUID]) -> None:
        """What follows a save in eventsourcing: the aggregate cache, snapshots."""
        if self.repository.cache and not self.repository.fastforward:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        self._take_snapshots(processing_event)

    def close(self) -> None:
        """Commit what is queued, then close the recorder and the store."""
        if isinstance(self.recorder, AsyncRecorder):
            self.recorder.close()
        super().close()

    # --- deciding and saving ----------------------------------------------------

    def decide(self, load: Callable[[], A], decide: Callable[[A], R]) -> R:
        """Load, decide, save; decided again on fresh state if another writer (the
        runtime recording what the orchestrator or an agent does) appended first."""
        conflicts = Conflicts()
        while True:
            aggregate = load()
            result = decide(aggregate)
            try:
                self.save(aggregate)
            except IntegrityError as conflict:
                conflicts.retry(conflict)
                continue
            return result

    async def decide_async(
        self, aggregate: A, decide: Callable[[A], object]
    ) -> tuple[A, Sequence[int]]:
        """``decide`` on an aggregate the caller keeps (the runtime's, in memory),
        and save it without blocking the event loop: the aggregate (reloaded if
        another writer appended first) and the saved events' notification ids."""
        conflicts = Conflicts()
        while True:
            decide(aggregate)
            events = aggregate.collect_events()
            if not events:
                return aggregate, ()
            try:
                # The events, not the aggregate: the aggregate cache must not hold
                # the caller's object, which goes on changing before each save.
                return aggregate, await self.save_async(*events)
            except IntegrityError as conflict:
                conflicts.retry(conflict)
                aggregate = await asyncio.to_thread(self.repository.get, aggregate.id)

    # --- sessions -----------------------------------------------------------

    def start_session(
        self, title: str = "", cwd: str = ".", budget_usd: float | None = None
    ) -> Session:
        session = Session.start(title=title, cwd=cwd, budget_usd=budget_usd)
        self.save(session)
        return session

    def get_session(self, session_id: UUID) -> Session:
        try:
            session: object = self.repository.get(session_id)
        except AggregateNotFoundError:
            raise SessionNotFound(session_id) from None
        if not isinstance(session, Session):
            raise SessionNotFound(session_id)
        return session

    def send_user_message(self, session_id: UUID, text: str) -> None:
        self.decide(lambda: self.get_session(session_id), lambda s: s.send_user_message(text))

    def cut_answer_short(self, session_id: UUID, reason: str) -> None:
        """The orchestrator's answer was cut short (a crash): say so, once."""
        self.decide(lambda: self.get_session(session_id), lambda s: s.cut_short(reason))

    def resume_session(self, session_id: UUID, reason: str) -> None:
        """Take up a session again (``podium up --session``); an ended one stays ended."""

        def resume(session: Session) -> None:
            if session.status is not SessionStatus.ENDED:
                session.resume(reason)

        self.decide(lambda: self.get_session(session_id), resume)

    def session_spend(self, session_id: UUID) -> Spend:
        """The session's budget, and what it spent: its orchestrator and every
        agent it had, each folded from the log."""
        return self._session_spend(self.get_session(session_id))

    def _session_spend(self, session: Session) -> Spend:
        if session.budget_usd is None:  # nothing to compare: no agent need be loaded
            return Spend(None, session.cost_usd)
        agents = [self.get_agent(agent_id) for agent_id in self.session_agents.of(session.id)]
        return session_spend(session, agents)

    # --- agents -------------------------------------------------------------

    def create_agent(self, session_id: UUID, name: str, **options: Any) -> Agent:
        """Create an agent; its name must be free in the session (case-insensitive).
        ``options``: see ``Agent.create`` (``AgentSetup.options`` gives a template's)."""
        check_agent_name(name)
        session = self.get_session(session_id)
        session.check_open()
        current = self._latest_incarnation(session_id, name)
        if current is not None and not current.is_deleted:
            raise DuplicateAgentName(current.name)
        incarnation = 0 if current is None else current.incarnation + 1
        agent = Agent.create(session_id, name, incarnation=incarnation, **options)
        try:
            self.save(agent)
        except IntegrityError:
            # Another writer claimed the same name between our read and our save.
            raise DuplicateAgentName(name) from None
        return agent

    def find_agent(self, session_id: UUID, name: str) -> Agent:
        """The live or last agent called ``name`` in the session."""
        agent = self._latest_incarnation(session_id, name)
        if agent is None:
            raise AgentNotFound(name)
        return agent

    def get_agent(self, agent_id: UUID) -> Agent:
        agent: object = self.repository.get(agent_id)
        assert isinstance(agent, Agent)
        return agent

    def command_agent(
        self,
        session_id: UUID,
        name: str,
        command: str,
        source: str = "orchestrator",
        request: str | None = None,
    ) -> str:
        """Give an agent a task (refused once its budget or its session's is
        spent); its slug. ``request``: the Idempotency-Key that asked for it."""

        def command_it(agent: Agent) -> str:
            spend = self._session_spend(self.get_session(session_id))
            return agent.command(command, source=source, request=request, session=spend)

        return self.decide(lambda: self.find_agent(session_id, name), command_it)

    def interrupt_agent(self, session_id: UUID, name: str, source: str) -> Agent:
        """Ask the runtime to stop a busy agent's turn (an idle one has none):
        the agent, as it is after the request."""

        def interrupt(agent: Agent) -> Agent:
            if agent.is_deleted:
                raise AgentNotFound(name)
            agent.request_interrupt(source)
            return agent

        return self.decide(lambda: self.find_agent(session_id, name), interrupt)

    def delete_agent(self, session_id: UUID, name: str, reason: str = "") -> None:
        self.decide(lambda: self.find_agent(session_id, name), lambda a: a.delete(reason))

    def drop_waiting(self, agent_id: UUID, reason: str) -> None:
        """Give up the agent's waiting commands: none of them will run."""
        self.decide(lambda: self.get_agent(agent_id), lambda a: a.drop_waiting(reason))

    def _latest_incarnation(self, session_id: UUID, name: str) -> Agent | None:
        """Walk the name's incarnations to the newest one that exists."""
        check_agent_name(name)
        incarnation = 0
        while self.recorder.select_events(agent_stream_id(session_id, name, incarnation), limit=1):
            incarnation += 1
        if incarnation == 0:
            return None
        return self.get_agent(agent_stream_id(session_id, name, incarnation - 1))

    # --- approvals ------------------------------------------------------------

    def request_approval(self, approval: Approval) -> Approval:
        """Record a new request (``Approval.request``); one recorded already
        (its id is the tool use's) is the request, as it stands."""
        try:
            self.save(approval)
        except IntegrityError:
            return self.get_approval(approval.id)
        return approval

    def get_approval(self, approval_id: UUID) -> Approval:
        try:
            approval: object = self.repository.get(approval_id)
        except AggregateNotFoundError:
            raise ApprovalNotFound(approval_id) from None
        if not isinstance(approval, Approval):
            raise ApprovalNotFound(approval_id)
        return approval

    def decide_approval(
        self, approval_id: UUID, allow: bool, scope: str, message: str, by: str
    ) -> Approval:
        """A person's decision; the first one stands (a second, or the loser of two
        at once, deciding again on fresh state, raises AlreadyDecided)."""

        def decide(approval: Approval) -> Approval:
            if allow:
                approval.grant(scope, by)
            else:
                approval.deny(message, by)
            return approval

        return self.decide(lambda: self.get_approval(approval_id), decide)

    def expire_approval(self, approval_id: UUID, reason: str) -> Approval:
        """Nobody decided in time, or a restart cut the agent short (AlreadyDecided
        when a decision came first)."""

        def expire(approval: Approval) -> Approval:
            approval.expire(reason)
            return approval

        return self.decide(lambda: self.get_approval(approval_id), expire)

    # --- system log ---------------------------------------------------------

    def write_system_log(
        self,
        level: str,
        message: str,
        context: dict[str, str] | None = None,
        session_id: UUID | None = None,
    ) -> None:
        """Append to today's system log (this process keeps it loaded)."""
        attempts = 0

        def load() -> SystemLog:
            nonlocal attempts
            attempts += 1
            return self._todays_system_log(fresh=attempts > 1)

        with self._system_log_lock:
            self.decide(load, lambda log: log.log(level, message, context, session_id))

    def _todays_system_log(self, fresh: bool) -> SystemLog:
        """Today's log: the one kept, unless ``fresh`` (another process appended)."""
        today = datetime.now(UTC).date()
        cached = self._system_log
        if not fresh and cached is not None and cached.day == today.isoformat():
            return cached
        try:
            loaded: object = self.repository.get(system_log_id(today))
            assert isinstance(loaded, SystemLog)
            self._system_log = loaded
        except AggregateNotFoundError:
            self._system_log = SystemLog.open(today)
        return self._system_log
