"""The application service on the in-memory store: its commands, and the one
save path with its one retry policy. No PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from eventsourcing.persistence import IntegrityError

from domain import agent as a
from domain.agent import Agent
from domain.application import Podium
from domain.errors import AgentNotFound
from domain.saving import CONFLICT_RETRIES, Conflicts
from domain.statuses import AgentStatus, SessionStatus
from domain.system_log import SystemLogged, system_log_id


@pytest.fixture
def podium() -> Podium:
    return Podium()


def kinds(podium: Podium, stream: object) -> list[str]:
    return [type(e).__name__ for e in podium.events.get(stream)]  # type: ignore[arg-type]


def test_a_conflict_is_decided_again_a_few_times_then_it_is_the_callers() -> None:
    conflicts = Conflicts()
    for _ in range(CONFLICT_RETRIES):
        conflicts.retry(IntegrityError("taken"))
    with pytest.raises(IntegrityError, match="taken"):
        conflicts.retry(IntegrityError("taken"))


def test_decide_loads_again_after_another_writer_appended(podium: Podium) -> None:
    session = podium.start_session()
    agent = podium.create_agent(session.id, "alice")
    stale = podium.get_agent(agent.id)
    agent.emit_text("first")  # another writer gets there first
    podium.save(agent)
    loads: list[Agent] = [stale]

    def load() -> Agent:
        return loads.pop() if loads else podium.get_agent(agent.id)

    assert podium.decide(load, lambda x: x.command("then this")) == "then-this"
    assert kinds(podium, agent.id)[-2:] == ["AgentTextEmitted", "AgentCommanded"]


def test_decide_async_reloads_an_aggregate_kept_in_memory(podium: Podium) -> None:
    session = podium.start_session()
    kept = podium.create_agent(session.id, "alice")
    other = podium.get_agent(kept.id)
    other.emit_text("from elsewhere")
    podium.save(other)
    fresh, ids = asyncio.run(podium.decide_async(kept, lambda x: x.emit_text("mine")))
    assert fresh is not kept and fresh.version == 3 and len(ids) == 1
    assert kinds(podium, kept.id)[-2:] == ["AgentTextEmitted", "AgentTextEmitted"]
    unchanged, none = asyncio.run(podium.decide_async(fresh, lambda x: None))
    assert (unchanged, none) == (fresh, ())


def test_an_interrupt_is_asked_of_a_busy_agent_only(podium: Podium) -> None:
    session = podium.start_session()
    podium.create_agent(session.id, "alice")
    idle = podium.interrupt_agent(session.id, "alice", "user")
    assert idle.status is AgentStatus.IDLE
    podium.command_agent(session.id, "alice", "work")
    queued = podium.interrupt_agent(session.id, "alice", "user")
    assert queued.status is AgentStatus.QUEUED
    assert kinds(podium, queued.id)[-1] == "AgentInterruptRequested"
    assert kinds(podium, queued.id).count("AgentInterruptRequested") == 1
    podium.delete_agent(session.id, "alice")
    with pytest.raises(AgentNotFound):
        podium.interrupt_agent(session.id, "alice", "user")


def test_dropping_an_agents_waiting_commands(podium: Podium) -> None:
    session = podium.start_session()
    agent = podium.create_agent(session.id, "alice")
    podium.command_agent(session.id, "alice", "one")
    podium.drop_waiting(agent.id, "its directory is gone")
    dropped = podium.events.get(agent.id, gt=2)
    (change,) = dropped
    assert isinstance(change, a.AgentStatusChanged)
    assert change.payload.dropped == ("one",)
    assert podium.get_agent(agent.id).status is AgentStatus.IDLE


def test_an_answer_cut_short_is_recorded_once_and_a_session_resumes(podium: Podium) -> None:
    session = podium.start_session()
    podium.cut_answer_short(session.id, "a crash")
    podium.cut_answer_short(session.id, "a crash")  # it says so already
    assert podium.get_session(session.id).status is SessionStatus.INTERRUPTED
    podium.resume_session(session.id, "podium up --session")
    assert podium.get_session(session.id).status is SessionStatus.ACTIVE
    assert kinds(podium, session.id) == ["SessionStarted", "SessionInterrupted", "SessionResumed"]


def test_an_ended_session_is_not_resumed(podium: Podium) -> None:
    session = podium.start_session()
    session.end("done")
    podium.save(session)
    podium.resume_session(session.id, "podium up --session")
    assert podium.get_session(session.id).status is SessionStatus.ENDED


def test_a_sessions_agents_are_read_from_the_log_as_they_are_created(podium: Podium) -> None:
    one, two = podium.start_session(), podium.start_session()
    alice = podium.create_agent(one.id, "alice")
    assert podium.session_agents.of(one.id) == [alice.id]
    bob = podium.create_agent(one.id, "bob")
    carol = podium.create_agent(two.id, "carol")
    podium.delete_agent(one.id, "alice")
    again = podium.create_agent(one.id, "alice")
    assert podium.session_agents.of(one.id) == [alice.id, bob.id, again.id]
    assert podium.session_agents.of(two.id) == [carol.id]


def test_the_system_log_is_written_through_the_same_save(podium: Podium) -> None:
    podium.write_system_log("info", "one")
    podium.write_system_log("warning", "two", {"k": "v"})
    entries = podium.events.get(system_log_id(datetime.now(UTC).date()))
    logged = [e.payload for e in entries if isinstance(e, SystemLogged)]
    assert [(p.level, p.message) for p in logged] == [("info", "one"), ("warning", "two")]
