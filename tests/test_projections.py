"""Projections: exactly once, even when the runner is killed; rebuilds are identical
to the live models, and a reader never sees a partial model."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from functools import partial

import psycopg
import pytest
from psycopg import sql

from domain.summarizer import Summaries
from eventlog.postgres import open_podium
from projections.read_models import NAMES
from projections.rebuild import SHADOW, build_shadow, rebuild
from projections.rebuild_process import FoldProcess, WorkerFailed
from projections.runner import ProjectionRunner
from projections.summary import shorten
from tests.workload import write_history

KEYS = {
    "sessions": "session_id",
    "agents": "agent_id",
    "costs": "session_id, actor_id, model, day",
    "chat": "notification_id",
    "agent_logs": "notification_id",
    "system_logs": "notification_id",
    "file_changes": "notification_id",
    "approvals": "id",
}


def snapshot(conn: psycopg.Connection, schema: str = "public") -> dict[str, list[tuple]]:
    """Every row of every read model, in key order."""
    return {
        name: conn.execute(
            sql.SQL("SELECT * FROM {}.{} ORDER BY " + KEYS[name]).format(
                sql.Identifier(schema), sql.Identifier(name)
            )
        ).fetchall()
        for name in NAMES
    }


def history(database_url: str, **sizes: int) -> int:
    app = open_podium(database_url)
    try:
        return write_history(app, **sizes)
    finally:
        app.close()


def catch_up(database_url: str, batch_size: int = 5_000) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return ProjectionRunner(database_url, batch_size=batch_size).catch_up(conn)


def test_read_models_fold_the_log(database_url):
    saved = history(database_url, sessions=2, agents=3, turns=4)
    assert catch_up(database_url) >= saved
    with psycopg.connect(database_url) as conn:
        agents = conn.execute(
            "SELECT name, status, turns, tool_uses FROM agents ORDER BY created_at"
        ).fetchall()
        assert len(agents) == 6
        assert sorted({a[1] for a in agents}) == ["deleted", "idle"]
        assert all(a[2] == 4 and a[3] == 4 for a in agents)
        log_cost, log_tokens = conn.execute(
            "SELECT sum((payload->>'cost_usd')::numeric), "
            "sum((payload->'usage'->>'input_tokens')::bigint) FROM events "
            "WHERE event_type = 'TurnCompleted'"
        ).fetchone()
        assert conn.execute("SELECT sum(cost_usd), sum(input_tokens) FROM costs").fetchone() == (
            log_cost,
            log_tokens,
        )
        assert conn.execute("SELECT sum(cost_usd) FROM sessions").fetchone()[0] == log_cost
        roles = conn.execute("SELECT role, count(*) FROM chat GROUP BY 1 ORDER BY 1").fetchall()
        assert roles == [("agent", 24), ("orchestrator", 12), ("user", 6)]
        assert conn.execute("SELECT count(*) FROM file_changes").fetchone()[0] == 24
        assert conn.execute("SELECT count(*) FROM system_logs").fetchone()[0] == 2
        categories = dict(
            conn.execute("SELECT category, count(*) FROM agent_logs GROUP BY 1").fetchall()
        )
        assert categories["tool"] == 48 and categories["result"] == 24
    assert catch_up(database_url) == 0  # nothing twice


def test_killed_runner_restarts_exactly_once(database_url):
    history(database_url, sessions=4, agents=5, turns=40)  # ~6,000 events
    with psycopg.connect(database_url, autocommit=True) as conn:
        head = conn.execute("SELECT max(notification_id) FROM podium_events").fetchone()[0]
        env = {**os.environ, "DATABASE_URL": database_url}
        runner = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "project", "--batch-size", "50"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            # Kill it mid-way: some batches committed, more to go.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                done = conn.execute(
                    "SELECT min(notification_id) FROM projection_tracking"
                ).fetchone()[0]
                if done and done > head // 4:
                    break
                time.sleep(0.01)
            runner.send_signal(signal.SIGKILL)
            runner.wait()
        finally:
            runner.kill()
        positions = {r[0] for r in conn.execute("SELECT notification_id FROM projection_tracking")}
        assert max(positions) < head, "the runner finished before it could be killed"

        restarted = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "project", "--once"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert restarted.returncode == 0, restarted.stderr
        build_shadow(database_url)  # a from-scratch fold of the whole log
        assert snapshot(conn) == snapshot(conn, SHADOW)
        assert {r[0] for r in conn.execute("SELECT notification_id FROM projection_tracking")} == {
            head
        }


def test_rebuild_all_is_identical_row_for_row(database_url):
    history(database_url, sessions=3, agents=3, turns=10)
    catch_up(database_url, batch_size=37)  # live: many small batches
    with psycopg.connect(database_url, autocommit=True) as conn:
        live = snapshot(conn)
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "rebuild", "--all"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "rebuilt sessions, agents" in done.stdout
    assert "events/s" in done.stderr  # the progress bar
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert snapshot(conn) == live
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'podium_%'"
        ).fetchall()
        assert schemas == []
    assert catch_up(database_url) == 0


def test_a_rebuild_shared_among_processes_is_identical(database_url):
    history(database_url, sessions=2, agents=3, turns=6)
    catch_up(database_url, batch_size=41)
    with psycopg.connect(database_url, autocommit=True) as conn:
        live = snapshot(conn)
    rebuild(database_url, processes=3, batch_size=50)  # this process and two workers
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert snapshot(conn) == live


def test_a_failing_worker_fails_the_rebuild():
    worker = FoldProcess("postgresql://nobody@127.0.0.1:1/none", ["chat"], (0, 10), 10)
    try:
        with pytest.raises(WorkerFailed, match="rebuilding chat failed"):
            worker.wait()
    finally:
        worker.stop()


def test_rebuild_counts_events_not_notification_ids(database_url):
    history(database_url, sessions=1, agents=2, turns=2)
    with psycopg.connect(database_url, autocommit=True) as conn:
        # Inserts that roll back leave gaps in the ids: skip some.
        conn.execute(
            "SELECT setval('podium_events_notification_id_seq', last_value + 50) "
            "FROM podium_events_notification_id_seq"
        )
    history(database_url, sessions=1, agents=1, turns=1)
    result = rebuild(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        count, last = conn.execute(
            "SELECT count(*), max(notification_id) FROM podium_events"
        ).fetchone()
    assert result.events == count < last


def test_an_ai_summary_annotates_an_earlier_event_only(database_url):
    history(database_url, sessions=1, agents=1, turns=2)
    app = open_podium(database_url)
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            head = conn.execute("SELECT max(notification_id) FROM podium_events").fetchone()[0]
            agent_id, first_tool_use = conn.execute(
                "SELECT stream_id, min(notification_id) FROM events "
                "WHERE event_type = 'ToolUseCompleted' GROUP BY 1"
            ).fetchone()
        agent = app.get_agent(agent_id)
        summarizer = Summaries.open(agent.session_id)  # head + 1
        said = partial(summarizer.summarize, agent_id=agent.id)
        assert said(first_tool_use, summary="wrote f0.py")  # head + 2
        assert not said(first_tool_use, summary="again")  # an event is summarized once
        said(head + 3, summary="itself")  # its own id: no earlier event
        said(head + 5, summary="a later event")
        app.save(summarizer)
        agent.emit_text("a later event")  # head + 5
        app.save(agent)
    finally:
        app.close()
    catch_up(database_url, batch_size=2)
    with psycopg.connect(database_url, autocommit=True) as conn:
        live = snapshot(conn)
        summarized = conn.execute(
            "SELECT notification_id, ai_summary FROM agent_logs WHERE ai_summary IS NOT NULL"
        ).fetchall()
    assert summarized == [(first_tool_use, "wrote f0.py")]
    rebuild(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert snapshot(conn) == live


def test_shorten_collapses_whitespace_and_cuts_like_the_whole_text_would():
    def reference(text: object, limit: int) -> str:
        line = " ".join(str(text).split())
        return line if len(line) <= limit else line[: limit - 1] + "…"

    rng = random.Random(5)
    pieces = [
        "word",
        "é",
        "😀",
        " ",
        "  ",
        "\n",
        "\t",
        "\r\n",
        "\u00a0",
        "\u2003",
        "\x1c",
        "\u200b",
    ]
    texts = ["", " " * 500 + "x", "x" + " " * 500 + "y", {"a": "b  c"}, 12345]
    texts += ["".join(rng.choices(pieces, k=rng.randint(0, 300))) for _ in range(3000)]
    for text in texts:
        for limit in (1, 2, 40, 160):
            assert shorten(text, limit) == reference(text, limit), (text, limit)


def test_rebuild_one_model_leaves_the_others_alone(database_url):
    history(database_url, sessions=1, agents=2, turns=3)
    catch_up(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = snapshot(conn)
        conn.execute("TRUNCATE chat")  # the only way a test may damage a model
    result = rebuild(database_url, ["chat"])
    assert result.names == ("chat",)
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert snapshot(conn) == before


def test_a_reader_during_a_rebuild_never_sees_a_partial_model(database_url):
    history(database_url, sessions=3, agents=4, turns=30)
    catch_up(database_url)
    probe = (
        "SELECT (SELECT count(*) FROM agent_logs), (SELECT coalesce(sum(turns), 0) FROM agents), "
        "(SELECT count(*) FROM chat)"
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        complete = conn.execute(probe).fetchone()
    observations: list[tuple] = []
    stop = threading.Event()

    def read() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            while not stop.is_set():
                observations.append(conn.execute(probe).fetchone())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        progress: list[int] = []
        rebuild(database_url, batch_size=25, progress=lambda done, total: progress.append(done))
    finally:
        stop.set()
        reader.join()
    assert len(progress) > 10  # the rebuild took many batches...
    assert len(observations) > 10  # ...while the reader kept reading
    assert set(observations) == {complete}


def _until_agents(database_url: str, count: int) -> None:
    deadline = time.monotonic() + 10
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute("SELECT count(*) FROM agents").fetchone()[0] == count:
                return
            time.sleep(0.05)
    pytest.fail(f"the running projection did not reach {count} agents")


def test_new_events_during_live_running_are_applied_even_after_a_lost_connection(
    database_url,
):
    runner = ProjectionRunner(database_url)
    thread = threading.Thread(target=runner.run_forever, kwargs={"poll_seconds": 0.2})
    thread.start()
    app = open_podium(database_url)
    try:
        session = app.start_session("live")
        app.create_agent(session.id, "alice")
        _until_agents(database_url, 1)
        with psycopg.connect(database_url, autocommit=True) as conn:
            cut = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'podium projections' AND datname = current_database()"
            ).fetchall()
        assert cut == [(True,)]
        app.create_agent(session.id, "bob")
        _until_agents(database_url, 2)
    finally:
        app.close()
        runner.stop()
        thread.join()
