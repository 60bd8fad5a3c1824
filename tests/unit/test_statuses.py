"""The agent's one transition table (domain/statuses.py), and the aggregate
following it step for step. No PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from domain import agent as a
from domain.agent import Agent
from domain.events import Usage
from domain.statuses import TRANSITIONS, AgentStatus, AgentStep, next_status

S = AgentStatus


@pytest.mark.parametrize(
    ("current", "step", "waiting", "after"),
    [
        (S.IDLE, AgentStep.COMMANDED, True, S.QUEUED),
        (S.INTERRUPTED, AgentStep.COMMANDED, True, S.QUEUED),
        (S.HIBERNATING, AgentStep.COMMANDED, True, S.QUEUED),
        (S.WORKING, AgentStep.COMMANDED, True, S.WORKING),  # it waits behind the turn
        (S.QUEUED, AgentStep.STARTED, False, S.WORKING),
        (S.WORKING, AgentStep.TURN_ENDED, True, S.QUEUED),
        (S.WORKING, AgentStep.TURN_ENDED, False, S.IDLE),
        (S.INTERRUPTED, AgentStep.TURN_ENDED, False, S.INTERRUPTED),  # it says why it ended
        (S.FAILED, AgentStep.TURN_ENDED, True, S.FAILED),
        (S.QUEUED, AgentStep.DROPPED, False, S.IDLE),
        (S.WORKING, AgentStep.DROPPED, False, S.WORKING),  # the turn runs on
        (S.IDLE, AgentStep.HIBERNATED, False, S.HIBERNATING),
        (S.WORKING, AgentStep.INTERRUPTED, True, S.INTERRUPTED),
        (S.WORKING, AgentStep.FAILED, False, S.FAILED),
        (S.QUEUED, AgentStep.DELETED, False, S.DELETED),
    ],
)
def test_each_step_moves_the_status_as_the_table_says(
    current: AgentStatus, step: AgentStep, waiting: bool, after: AgentStatus
) -> None:
    assert next_status(current, step, waiting) is after


def test_every_step_has_a_transition_and_every_status_is_reached() -> None:
    assert set(TRANSITIONS) == set(AgentStep)
    reached = {
        next_status(status, step, waiting)
        for status in AgentStatus
        for step in AgentStep
        for waiting in (False, True)
    }
    assert reached == set(AgentStatus)


def test_statuses_are_the_strings_the_log_and_the_read_models_hold() -> None:
    assert [str(status) for status in AgentStatus] == [
        "idle",
        "queued",
        "working",
        "awaiting approval",
        "interrupted",
        "failed",
        "hibernating",
        "deleted",
    ]
    with pytest.raises(ValueError, match="'busy'"):
        next_status("busy", AgentStep.STARTED, False)


def _turn(agent: Agent) -> None:
    agent.complete_turn(
        Usage(input_tokens=1), cost_usd=0.0, duration_ms=1, num_turns=1, claude_session_id="c"
    )


def test_the_aggregate_follows_the_table_through_a_life() -> None:
    """Each event's status is what next_status makes of the one before, with the
    event's step (status_step) — the same rule the agents projector applies."""
    agent = Agent.create(uuid.uuid4(), "alice")
    seen = [agent.status]
    agent.command("one")
    seen.append(agent.status)
    agent.command("two")
    seen.append(agent.status)
    agent.start_turn()
    seen.append(agent.status)
    _turn(agent)
    seen.append(agent.status)
    agent.start_turn()
    agent.interrupt("stop")
    seen.append(agent.status)
    _turn(agent)
    seen.append(agent.status)
    agent.hibernate("idle")
    seen.append(agent.status)
    agent.command("three")
    agent.delete("done")
    seen.append(agent.status)
    assert seen == [
        S.IDLE,
        S.QUEUED,
        S.QUEUED,
        S.WORKING,
        S.QUEUED,  # "two" still waits
        S.INTERRUPTED,
        S.INTERRUPTED,
        S.HIBERNATING,
        S.DELETED,
    ]
    status = S.IDLE
    waiting = 0
    for event in agent.collect_events()[1:]:
        cls = type(event)
        if cls is a.AgentCommanded:
            waiting += 1
        elif cls is a.AgentStatusChanged:
            waiting -= event.payload.started + len(event.payload.dropped)
            status = S(event.payload.status)
            continue
        step = a.status_step(cls, event.payload)
        if step is not None:
            status = next_status(status, step, waiting > 0)
    assert (status, waiting) == (S.DELETED, 0)


def test_no_status_change_deletes_an_agent() -> None:
    agent = Agent.create(uuid.uuid4(), "alice")
    with pytest.raises(ValueError, match="delete"):
        agent.change_status("deleted")
    with pytest.raises(ValueError, match="'asleep'"):
        agent.change_status("asleep")
