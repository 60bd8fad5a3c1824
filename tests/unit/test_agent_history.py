"""Agents recorded by older podiums replay as they were: history is upcast on
read, never rewritten. In-memory store: no PostgreSQL needed."""

from __future__ import annotations

import msgspec
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain import agent as a
from domain.application import Podium


def test_commands_recorded_before_the_queue_existed_are_not_run_again() -> None:
    """V1 commands started at once: an old stream replays with nothing waiting."""
    app = Podium()
    session = app.start_session()
    old = app.create_agent(session.id, "old")

    def v1(version: int, task: str) -> StoredEvent:
        payload = a.AgentCommandedV1(command=task, task=task, source="user")
        state = msgspec.json.encode({"timestamp": "2025-01-02T03:04:05Z", "payload": payload})
        return StoredEvent(old.id, version, get_topic(a.AgentCommanded), state)

    app.recorder.insert_events([v1(2, "first"), v1(3, "second")])
    replayed = app.get_agent(old.id)
    assert (replayed.status, replayed.task, replayed.waiting) == ("working", "second", ())
    assert app.command_agent(session.id, "old", "first") == "first-2"  # tasks stay unique
    assert [w.task for w in app.get_agent(old.id).waiting] == ["first-2"]
