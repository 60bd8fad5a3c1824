"""Domain rules: names, commands, sessions, directories, models. The
application service on eventsourcing's in-memory store: rules need no
PostgreSQL (tests/test_domain.py holds what does)."""

from __future__ import annotations

import pytest

from domain.application import Podium
from domain.errors import (
    AgentIsDeleted,
    AgentNotFound,
    DirectoryOutsideSession,
    DuplicateAgentName,
    EmptyText,
    InvalidAgentName,
    InvalidModel,
    NegativeAmount,
    SessionIsEnded,
)
from domain.events import Usage


@pytest.fixture
def podium() -> Podium:
    """The service on an in-memory store."""
    return Podium()


@pytest.mark.parametrize("name", ["alice", "A", "bob_2", "x-ray", "a" * 64, "Zed9"])
def test_valid_agent_names(podium, name):
    session = podium.start_session()
    assert podium.create_agent(session.id, name).name == name


@pytest.mark.parametrize(
    "name", ["", "9lives", "_x", "-x", "has space", "é", "a" * 65, "a.b", "x/y"]
)
def test_invalid_agent_names_are_refused(podium, name):
    session = podium.start_session()
    with pytest.raises(InvalidAgentName, match="letter followed by"):
        podium.create_agent(session.id, name)


def test_names_are_unique_per_session_case_insensitively(podium):
    one, two = podium.start_session(), podium.start_session()
    podium.create_agent(one.id, "alice")
    with pytest.raises(DuplicateAgentName):
        podium.create_agent(one.id, "ALICE")
    assert podium.create_agent(two.id, "Alice").name == "Alice"  # another session: free


def test_a_deleted_agents_name_can_be_used_again(podium):
    session = podium.start_session()
    podium.create_agent(session.id, "alice")
    podium.delete_agent(session.id, "alice")
    again = podium.create_agent(session.id, "alice")
    assert again.incarnation == 1
    assert podium.find_agent(session.id, "Alice").id == again.id


def test_no_command_to_a_deleted_agent(podium):
    session = podium.start_session()
    podium.create_agent(session.id, "alice")
    podium.delete_agent(session.id, "alice")
    with pytest.raises(AgentIsDeleted, match="alice"):
        podium.command_agent(session.id, "alice", "work")


def test_unknown_agent(podium):
    session = podium.start_session()
    with pytest.raises(AgentNotFound, match="bob"):
        podium.command_agent(session.id, "bob", "work")


def test_commands_start_tasks(podium):
    session = podium.start_session()
    podium.create_agent(session.id, "alice")
    task = podium.command_agent(session.id, "alice", "Create a simple Hello World podium!")
    assert task == "create-a-simple-hello-world"
    agent = podium.find_agent(session.id, "alice")
    # It waits for its turn, which the runtime starts (tests/test_turn_queue.py).
    assert (agent.status, [waiting.task for waiting in agent.waiting]) == ("queued", [task])
    with pytest.raises(EmptyText):
        podium.command_agent(session.id, "alice", "   ")


def test_tokens_and_costs_are_never_negative(podium):
    session = podium.start_session()
    agent = podium.create_agent(session.id, "alice")
    with pytest.raises(NegativeAmount, match="input_tokens"):
        agent.complete_turn(
            Usage(input_tokens=-1), cost_usd=0.1, duration_ms=10, num_turns=1, claude_session_id="s"
        )
    with pytest.raises(NegativeAmount, match="cost_usd"):
        agent.complete_turn(
            Usage(), cost_usd=-0.01, duration_ms=10, num_turns=1, claude_session_id="s"
        )
    with pytest.raises(NegativeAmount):
        podium.start_session(budget_usd=-5)
    agent.complete_turn(
        Usage(input_tokens=10, output_tokens=2),
        cost_usd=0.5,
        duration_ms=10,
        num_turns=1,
        claude_session_id="s",
    )
    podium.save(agent)
    assert podium.get_agent(agent.id).cost_usd == 0.5


def test_an_ended_session_takes_no_more_messages(podium):
    session = podium.start_session()
    session.end("done")
    podium.save(session)
    with pytest.raises(SessionIsEnded):
        podium.send_user_message(session.id, "hello?")
    with pytest.raises(SessionIsEnded):
        podium.create_agent(session.id, "alice")


def test_a_message_to_an_interrupted_session_resumes_it(podium):
    session = podium.start_session()
    session.interrupt("podium is shutting down")
    podium.save(session)
    podium.send_user_message(session.id, "where were we?")
    session = podium.get_session(session.id)
    assert session.status == "active"
    kinds = [type(e).__name__ for e in podium.events.get(session.id)]
    assert kinds[-3:] == ["SessionInterrupted", "SessionResumed", "UserMessageSent"]


@pytest.mark.parametrize("cwd", ["/etc", "../up", "a/../../b", "/"])
def test_an_agent_works_inside_its_sessions_directory(podium, cwd):
    session = podium.start_session()
    with pytest.raises(DirectoryOutsideSession):
        podium.create_agent(session.id, "alice", cwd=cwd)
    assert podium.create_agent(session.id, "bob", cwd="sub/dir").name == "bob"


@pytest.mark.parametrize("model", ["gpt-4", "claude", "", "claude-sonnet 4"])
def test_unknown_models_are_refused(podium, model):
    session = podium.start_session()
    with pytest.raises(InvalidModel):
        podium.create_agent(session.id, "alice", model=model)
