"""One event as the browser sees it: encoded once, sent to every viewer.

Every event, live or paged, has the same JSON shape. The routing fields a
stream filters on (session, agent, category) travel in a small header in
front of the JSON, so fan-out filters without decoding anything.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from domain.events import Payload
from eventlog.reading import Cursor, RecordedEvent
from projections.directory import AgentDirectory
from projections.read_models.agent_logs import CATEGORIES
from projections.summary import summarize

SESSION_CATEGORIES = {
    "UserMessageSent": "chat",
    "OrchestratorReplied": "chat",
    "OrchestratorToolUsed": "tool",
    "TurnCompleted": "result",
}


class EventView(msgspec.Struct, frozen=True):
    id: int
    stream_id: UUID
    stream_type: str
    version: int
    type: str
    at: datetime
    session_id: UUID | None
    agent: str | None
    category: str
    summary: str
    payload: Payload


_encoder = msgspec.json.Encoder()


def category_of(event: RecordedEvent) -> str:
    if event.stream_type == "agent":
        return CATEGORIES.get(event.event_class, "lifecycle")
    if event.stream_type == "session":
        return SESSION_CATEGORIES.get(event.event_type, "lifecycle")
    return "system"


def view_of(event: RecordedEvent, directory: AgentDirectory, cur: Cursor) -> EventView:
    agent = directory.lookup(cur, event.stream_id).name if event.stream_type == "agent" else None
    return EventView(
        id=event.notification_id,
        stream_id=event.stream_id,
        stream_type=event.stream_type,
        version=event.version,
        type=event.event_type,
        at=event.timestamp,
        session_id=directory.session_of(cur, event),
        agent=agent,
        category=category_of(event),
        summary=summarize(event.payload),
        payload=event.payload,
    )


def encode(view: EventView) -> bytes:
    return _encoder.encode(view)


class Routed(msgspec.Struct, frozen=True):
    """An encoded event with the fields a stream filters on."""

    id: int
    session_id: str
    agent: str
    category: str
    body: bytes

    def matches(self, session: str | None, agent: str | None, category: str | None) -> bool:
        return (
            (session is None or self.session_id == session)
            and (agent is None or self.agent.lower() == agent.lower())
            and (category is None or self.category == category)
        )


def routed(view: EventView) -> Routed:
    return Routed(
        view.id, str(view.session_id or ""), view.agent or "", view.category, encode(view)
    )
