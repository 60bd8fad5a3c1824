"""podium's aggregates trigger their events directly (domain.aggregate)."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass

import pytest
from eventsourcing.domain import Aggregate

from domain.agent import Agent, AgentTextEmitted, TextV1
from domain.events import PodiumEvent


@dataclass(frozen=True)
class TextWithMood(PodiumEvent):
    """An event of another shape: one more field, with a default."""

    payload: TextV1
    mood: str = "calm"


def test_podium_aggregates_trigger_the_events_eventsourcing_would():
    """PodiumAggregate.trigger_event puts events together directly; they are the
    events eventsourcing's trigger_event makes, and change the aggregate alike."""
    agent = Agent.create(uuid.uuid4(), "alice")
    twin = copy.deepcopy(agent)
    agent.command("Fix the parser")
    Aggregate.trigger_event(twin, type(agent.pending_events[-1]), **_payload(agent))
    fast, slow = agent.pending_events[-1], twin.pending_events[-1]
    assert type(fast) is type(slow)
    assert _without_timestamp(fast) == _without_timestamp(slow)
    assert (agent.version, agent.task, agent.status) == (twin.version, twin.task, twin.status)
    assert agent.modified_on == fast.timestamp

    agent.emit_text("hello")
    event = agent.pending_events[-1]
    assert isinstance(event, AgentTextEmitted)
    assert event.payload == TextV1(task=agent.task, text="hello")
    assert event.timestamp.tzinfo is not None
    assert (event.originator_id, event.originator_version) == (agent.id, 3)


def test_a_misnamed_event_field_is_refused_as_eventsourcing_refuses_it():
    agent = Agent.create(uuid.uuid4(), "alice")
    with pytest.raises(TypeError, match="payloda"):
        agent.trigger_event(AgentTextEmitted, payloda=TextV1(task=None, text="x"))
    assert agent.version == 1 and len(agent.pending_events) == 1


def _payload(agent: Agent) -> dict[str, object]:
    return {"payload": agent.pending_events[-1].payload}  # type: ignore[attr-defined]


def _without_timestamp(event: object) -> dict[str, object]:
    return {k: v for k, v in vars(event).items() if k != "timestamp"}


def test_an_event_of_another_shape_is_made_by_eventsourcing():
    agent = Agent.create(uuid.uuid4(), "alice")
    agent.trigger_event(TextWithMood, payload=TextV1(task=None, text="x"))
    event = agent.pending_events[-1]
    assert isinstance(event, TextWithMood) and event.mood == "calm"
    assert agent.version == 2
