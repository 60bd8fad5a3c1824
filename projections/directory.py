"""Whose a stream is, for projectors that see only its stream id: an agent's
session and name, or those of the agent an approval request is for.

An agent's events (and an approval request's decision) carry their stream
id, not the session or the agent's name; those are in the stream's first
event. The directory answers from events it has seen and, for the rest,
from that first event in the store: the log, never a read model, so a
projection rebuilt alone needs no other.
"""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

from domain.agent import AgentCreated, AgentCreatedV2
from domain.approval import ApprovalRequested, ApprovalRequestedV1
from domain.events import Payload
from eventlog.reading import Cursor, RecordedEvent, first_event


class AgentIdentity(NamedTuple):
    session_id: UUID
    name: str


FIRST_EVENTS = (AgentCreated, ApprovalRequested)  # the streams a directory knows
OWNED_STREAMS = ("agent", "approval")  # their stream types


def identity(payload: Payload) -> AgentIdentity:
    """The agent a stream's first event names."""
    if isinstance(payload, ApprovalRequestedV1):
        return AgentIdentity(payload.session_id, payload.agent)
    assert isinstance(payload, AgentCreatedV2)
    return AgentIdentity(payload.session_id, payload.name)


class AgentDirectory:
    def __init__(self) -> None:
        # Keyed by the id's integer: hashing an int is C, hashing a UUID is a
        # Python call, and a rebuild asks several times per event.
        self._known: dict[int, AgentIdentity] = {}
        # The last answer: an agent's events come in runs (a turn is saved at
        # once), and a stream's id is one shared object (eventlog.reading).
        self._last: tuple[UUID | None, AgentIdentity | None] = (None, None)

    def learn(self, events: list[RecordedEvent]) -> None:
        for event in events:
            if event.event_class in FIRST_EVENTS:
                self._known[event.stream_id.int] = identity(event.payload)

    def lookup(self, cur: Cursor, agent_id: UUID) -> AgentIdentity:
        """The agent of an agent's stream, or of an approval request's."""
        last_id, last = self._last
        if agent_id is last_id and last is not None:
            return last
        known = self._known.get(agent_id.int)
        if known is None:
            known = identity(first_event(cur, agent_id).payload)
            self._known[agent_id.int] = known
        self._last = (agent_id, known)
        return known

    def session_of(self, cur: Cursor, event: RecordedEvent) -> UUID | None:
        """The session an event belongs to (None for system logs that name none)."""
        if event.stream_type == "session":
            return event.stream_id
        if event.stream_type in OWNED_STREAMS:
            return self.lookup(cur, event.stream_id).session_id
        session_id: UUID | None = getattr(event.payload, "session_id", None)
        return session_id
