"""One event as the browser sees it, no PostgreSQL: the JSON every viewer gets and
the fields streams filter on (projections/event_view.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

from domain import agent as a
from domain import session as s
from domain.agent_payloads import AgentCreatedV2, TextV1
from domain.codec import PodiumEventType
from domain.events import Payload
from domain.system_log import SystemLogged, SystemLoggedV1
from eventlog.reading import RecordedEvent
from projections.directory import AgentDirectory
from projections.event_view import Routed, routed, view_of

SESSION = uuid4()
AGENT = uuid4()
AT = datetime(2026, 1, 1, tzinfo=UTC)


def recorded(n: int, stream: object, cls: PodiumEventType, payload: Payload) -> RecordedEvent:
    return RecordedEvent(n, stream, n, cls, AT, payload)  # type: ignore[arg-type]


def bob_created(n: int) -> RecordedEvent:
    bob = AgentCreatedV2(SESSION, "Bob", 1, "m", system_prompt="", template=None, cwd="/w")
    return recorded(n, AGENT, a.AgentCreated, bob)


def seen(events: list[RecordedEvent]) -> list[Routed]:
    """The events as the gateway encodes them; every agent is known from its creation,
    so the directory never has to ask the store (the cursor is never used)."""
    directory = AgentDirectory()
    directory.learn(events)
    return [routed(view_of(event, directory, None)) for event in events]  # type: ignore[arg-type]


def test_every_event_has_the_same_shape_and_its_routing_fields() -> None:
    events = [
        recorded(1, SESSION, s.UserMessageSent, s.UserMessageSentV1(text="make bob")),
        bob_created(2),
        recorded(3, AGENT, a.AgentTextEmitted, TextV1(task="t", text="hello  there")),
        recorded(4, uuid4(), SystemLogged, SystemLoggedV1("info", "up", {}, SESSION)),
    ]
    chat, creation, text, logged = seen(events)
    assert [(r.session_id, r.agent, r.category) for r in (chat, creation, text, logged)] == [
        (str(SESSION), "", "chat"),
        (str(SESSION), "Bob", "lifecycle"),
        (str(SESSION), "Bob", "message"),
        (str(SESSION), "", "system"),
    ]
    body = json.loads(text.body)
    assert body == {
        "id": 3,
        "stream_id": str(AGENT),
        "stream_type": "agent",
        "version": 3,
        "type": "AgentTextEmitted",
        "at": "2026-01-01T00:00:00Z",
        "session_id": str(SESSION),
        "agent": "Bob",
        "category": "message",
        "summary": "hello there",
        "payload": {"v": 1, "task": "t", "text": "hello  there"},
    }
    assert json.loads(chat.body)["agent"] is None


def test_a_stream_filter_matches_session_agent_regardless_of_case_and_category() -> None:
    [text] = seen([bob_created(1)])
    assert text.matches(None, None, None)
    assert text.matches(str(SESSION), "bob", "lifecycle")
    assert not text.matches(str(uuid4()), None, None)
    assert not text.matches(None, "alice", None)
    assert not text.matches(None, None, "message")
