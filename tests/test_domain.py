"""Domain rules, enforced against the real event store."""

from __future__ import annotations

import threading

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from domain.agent import Agent
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
from eventlog.group_commit import GroupCommitRecorder
from eventlog.postgres import open_podium
from tests.store_reads import transactions


@pytest.mark.parametrize("name", ["alice", "A", "bob_2", "x-ray", "a" * 64, "Zed9"])
def test_valid_agent_names(app, name):
    session = app.start_session()
    assert app.create_agent(session.id, name).name == name


@pytest.mark.parametrize(
    "name", ["", "9lives", "_x", "-x", "has space", "é", "a" * 65, "a.b", "x/y"]
)
def test_invalid_agent_names_are_refused(app, name):
    session = app.start_session()
    with pytest.raises(InvalidAgentName, match="letter followed by"):
        app.create_agent(session.id, name)


def test_names_are_unique_per_session_case_insensitively(app):
    one, two = app.start_session(), app.start_session()
    app.create_agent(one.id, "alice")
    with pytest.raises(DuplicateAgentName):
        app.create_agent(one.id, "ALICE")
    assert app.create_agent(two.id, "Alice").name == "Alice"  # another session: free


def test_a_deleted_agents_name_can_be_used_again(app):
    session = app.start_session()
    app.create_agent(session.id, "alice")
    app.delete_agent(session.id, "alice")
    again = app.create_agent(session.id, "alice")
    assert again.incarnation == 1
    assert app.find_agent(session.id, "Alice").id == again.id


def test_no_command_to_a_deleted_agent(app):
    session = app.start_session()
    app.create_agent(session.id, "alice")
    app.delete_agent(session.id, "alice")
    with pytest.raises(AgentIsDeleted, match="alice"):
        app.command_agent(session.id, "alice", "work")


def test_unknown_agent(app):
    session = app.start_session()
    with pytest.raises(AgentNotFound, match="bob"):
        app.command_agent(session.id, "bob", "work")


def test_commands_start_tasks(app):
    session = app.start_session()
    app.create_agent(session.id, "alice")
    task = app.command_agent(session.id, "alice", "Create a simple Hello World app!")
    assert task == "create-a-simple-hello-world"
    agent = app.find_agent(session.id, "alice")
    # It waits for its turn, which the runtime starts (tests/test_turn_queue.py).
    assert (agent.status, [waiting.task for waiting in agent.waiting]) == ("queued", [task])
    with pytest.raises(EmptyText):
        app.command_agent(session.id, "alice", "   ")


def test_tokens_and_costs_are_never_negative(app):
    session = app.start_session()
    agent = app.create_agent(session.id, "alice")
    with pytest.raises(NegativeAmount, match="input_tokens"):
        agent.complete_turn(
            Usage(input_tokens=-1), cost_usd=0.1, duration_ms=10, num_turns=1, claude_session_id="s"
        )
    with pytest.raises(NegativeAmount, match="cost_usd"):
        agent.complete_turn(
            Usage(), cost_usd=-0.01, duration_ms=10, num_turns=1, claude_session_id="s"
        )
    with pytest.raises(NegativeAmount):
        app.start_session(budget_usd=-5)
    agent.complete_turn(
        Usage(input_tokens=10, output_tokens=2),
        cost_usd=0.5,
        duration_ms=10,
        num_turns=1,
        claude_session_id="s",
    )
    app.save(agent)
    assert app.get_agent(agent.id).cost_usd == 0.5


def test_an_ended_session_takes_no_more_messages(app):
    session = app.start_session()
    session.end("done")
    app.save(session)
    with pytest.raises(SessionIsEnded):
        app.send_user_message(session.id, "hello?")
    with pytest.raises(SessionIsEnded):
        app.create_agent(session.id, "alice")


def test_a_message_to_an_interrupted_session_resumes_it(app):
    session = app.start_session()
    session.interrupt("podium is shutting down")
    app.save(session)
    app.send_user_message(session.id, "where were we?")
    session = app.get_session(session.id)
    assert session.status == "active"
    kinds = [type(e).__name__ for e in app.events.get(session.id)]
    assert kinds[-3:] == ["SessionInterrupted", "SessionResumed", "UserMessageSent"]


def test_system_log_appends_across_application_instances(app, database_url):
    other = open_podium(database_url)
    try:
        app.write_system_log("info", "from one")
        other.write_system_log(
            "warning", "from the other"
        )  # its cached version is stale: it retries
        app.write_system_log("error", "from one again")
    finally:
        other.close()
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT payload->>'message' FROM events WHERE event_type = 'SystemLogged' ORDER BY 1"
        ).fetchall()
    assert [r[0] for r in rows] == ["from one", "from one again", "from the other"]


def test_group_commit_saves_many_writers_in_one_transaction(app, database_url):
    session = app.start_session()
    agents = [app.create_agent(session.id, f"agent{i}") for i in range(8)]
    before = transactions(database_url)
    recorder = app.recorder
    assert isinstance(recorder, GroupCommitRecorder)
    # The events of the first group, the one that waits for the lock: usually one
    # writer's, but a second writer may queue before the committer wakes.
    first_group: list[int] = []
    insert = recorder.recorder.insert_events

    def spy(stored_events, **kwargs):
        first_group.append(len(stored_events))
        return insert(stored_events, **kwargs)

    recorder.recorder.insert_events = spy  # type: ignore[method-assign]

    def write(agent: Agent) -> None:
        for n in range(5):
            agent.emit_text(f"line {n}")
        app.save(agent)

    # Hold the events table's write lock so the writers queue up behind one commit.
    with psycopg.connect(database_url) as blocker:
        blocker.execute("LOCK TABLE podium_events IN EXCLUSIVE MODE")
        threads = [threading.Thread(target=write, args=(a,)) for a in agents]
        for t in threads:
            t.start()
        while sum(first_group) // 5 + recorder._queue.qsize() < len(agents):
            threading.Event().wait(0.01)
        blocker.rollback()
    for t in threads:
        t.join()
    # One transaction for the writers that got in first, one for those that queued.
    assert transactions(database_url) - before == 2
    for agent in agents:
        assert app.get_agent(agent.id).version == 6


def test_a_conflict_fails_only_its_own_writer(app, database_url):
    session = app.start_session()
    alice = app.create_agent(session.id, "alice")
    bob = app.create_agent(session.id, "bob")
    stale = app.get_agent(alice.id)
    alice.emit_text("first")
    app.save(alice)
    stale.emit_text("conflicting")
    bob.emit_text("unrelated")
    errors: list[Exception] = []

    def save(agent: Agent) -> None:
        try:
            app.save(agent)
        except IntegrityError as error:
            errors.append(error)

    with psycopg.connect(database_url) as blocker:
        blocker.execute("LOCK TABLE podium_events IN EXCLUSIVE MODE")
        threads = [threading.Thread(target=save, args=(a,)) for a in (stale, bob)]
        for t in threads:
            t.start()
        threading.Event().wait(0.3)
        blocker.rollback()
    for t in threads:
        t.join()
    assert len(errors) == 1
    assert app.get_agent(bob.id).version == 2
    assert app.get_agent(alice.id).version == 2


@pytest.mark.parametrize("cwd", ["/etc", "../up", "a/../../b", "/"])
def test_an_agent_works_inside_its_sessions_directory(app, cwd):
    session = app.start_session()
    with pytest.raises(DirectoryOutsideSession):
        app.create_agent(session.id, "alice", cwd=cwd)
    assert app.create_agent(session.id, "bob", cwd="sub/dir").name == "bob"


@pytest.mark.parametrize("model", ["gpt-4", "claude", "", "claude-sonnet 4"])
def test_unknown_models_are_refused(app, model):
    session = app.start_session()
    with pytest.raises(InvalidModel):
        app.create_agent(session.id, "alice", model=model)
