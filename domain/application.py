"""The application service: the commands of podium's write side.

Adapters (the runtime, the gateway, the CLI) call these methods; each loads
the aggregates it needs, lets them decide, and saves their new events. Saves
go through group commit, so concurrent writers share transactions.
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
from domain.codec import MsgspecTranscoder, PayloadMapper
from domain.errors import AgentNotFound, DuplicateAgentName, SessionNotFound
from domain.names import agent_stream_id, check_agent_name
from domain.ports import AsyncRecorder
from domain.session import Session
from domain.system_log import SystemLog, system_log_id

A = TypeVar("A", bound=BaseAggregate[UUID])
R = TypeVar("R")
CONFLICT_RETRIES = 3


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
        self._decide(lambda: self.get_session(session_id), lambda s: s.send_user_message(text))

    def _decide(self, load: Callable[[], A], decide: Callable[[A], R]) -> R:
        """Load, decide, save; decided again on fresh state if another writer (the
        runtime recording what the orchestrator or an agent does) appended first."""
        for attempt in range(CONFLICT_RETRIES + 1):
            aggregate = load()
            result = decide(aggregate)
            try:
                self.save(aggregate)
            except IntegrityError:
                if attempt == CONFLICT_RETRIES:
                    raise
                continue
            return result
        raise AssertionError("unreachable: the loop returns or raises")

    # --- agents -------------------------------------------------------------

    def create_agent(self, session_id: UUID, name: str, **options: Any) -> Agent:
        """Create an agent; its name must be free in the session (case-insensitive)."""
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
        def command_it(agent: Agent) -> str:
            return agent.command(command, source=source, request=request)

        return self._decide(lambda: self.find_agent(session_id, name), command_it)

    def delete_agent(self, session_id: UUID, name: str, reason: str = "") -> None:
        self._decide(lambda: self.find_agent(session_id, name), lambda a: a.delete(reason))

    def _latest_incarnation(self, session_id: UUID, name: str) -> Agent | None:
        """Walk the name's incarnations to the newest one that exists."""
        check_agent_name(name)
        incarnation = 0
        while self.recorder.select_events(agent_stream_id(session_id, name, incarnation), limit=1):
            incarnation += 1
        if incarnation == 0:
            return None
        return self.get_agent(agent_stream_id(session_id, name, incarnation - 1))

    # --- system log ---------------------------------------------------------

    def write_system_log(
        self,
        level: str,
        message: str,
        context: dict[str, str] | None = None,
        session_id: UUID | None = None,
    ) -> None:
        """Append to today's system log; retried if another process appended first."""
        with self._system_log_lock:
            for _ in range(5):
                system_log = self._todays_system_log()
                system_log.log(level, message, context, session_id)
                try:
                    self.save(system_log)
                    return
                except IntegrityError:
                    self._system_log = None  # stale: reload and try again
            raise RuntimeError("could not append to the system log: too much contention")

    def _todays_system_log(self) -> SystemLog:
        today = datetime.now(UTC).date()
        cached = self._system_log
        if cached is not None and cached.day == today.isoformat():
            return cached
        try:
            loaded: object = self.repository.get(system_log_id(today))
            assert isinstance(loaded, SystemLog)
            self._system_log = loaded
        except AggregateNotFoundError:
            self._system_log = SystemLog.open(today)
        return self._system_log
