"""Domain rules that need the real event store: appends from several
processes, group commit, conflicts (the rest: tests/unit/test_domain_rules.py)."""

from __future__ import annotations

import threading

import psycopg
from eventsourcing.persistence import IntegrityError

from domain.agent import Agent
from eventlog.group_commit import GroupCommitRecorder
from eventlog.postgres import open_podium
from tests.store_reads import transactions


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
