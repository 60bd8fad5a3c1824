"""How podium's application service saves: eventsourcing's Application, with
msgspec payloads, saves through group commit (sync, and awaited from asyncio
code) and one retry policy for a save another writer beat.

``Podium`` (domain/application.py) adds the commands; nothing else saves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
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

from domain.codec import MsgspecTranscoder, PayloadMapper
from domain.ports import AsyncRecorder

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


class SavingApplication(Application[UUID]):
    """eventsourcing's Application as podium saves: the events of the given
    aggregates in one transaction shared with concurrent writers, decided
    again on fresh state when another writer came first."""

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
