"""One bad byte breaks nothing: text PostgreSQL cannot hold never enters the log,
and an event in the store that cannot be read or folded stalls no read model.

Poison comes two ways: through the domain (what podium records now: NUL,
lone surrogates), and as raw rows an older podium (or a hand) wrote into the
store table. Real PostgreSQL, real runners, real rebuilds."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest
from eventsourcing.utils import get_topic

from domain.agent import AgentTextEmitted
from domain.events import Usage
from domain.session import UserMessageSent
from domain.system_log import SystemLogged
from domain.text import NUL_MARKER, REPLACEMENT
from eventlog.postgres import open_podium
from gateway.audit import get_query, list_queries, run_named
from gateway.system import System, SystemConfig
from projections.faults import faults
from projections.read_models import NAMES
from projections.rebuild import rebuild
from projections.runner import ProjectionRunner
from tests.gateway_server import until as poll
from tests.test_projections import catch_up, history, snapshot
from tests.test_runtime import rows, until

TIMESTAMP = "2026-11-25T06:42:39.866Z"


def stored_states(database_url: str) -> list[bytes]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT state FROM podium_events ORDER BY notification_id")
        return [bytes(row[0]) for row in rows]


def test_nul_and_lone_surrogates_from_the_domain_are_recorded_cleaned(app, database_url):
    session = app.start_session("title \x00 with nul", "/work/\x00dir")
    app.send_user_message(session.id, "a\x00b")
    app.send_user_message(session.id, "lone \ud800 surrogate, a pair \ud83d\ude00")
    app.send_user_message(session.id, r"the text \u0000 is not a NUL")
    agent = app.create_agent(session.id, "alice", system_prompt="be \x00 brief")
    agent.command("run it")
    agent.emit_text("out: \x00\x00 \udfff")
    agent.request_tool_use("tu_1", "Bash", {"command": "printf 'a\\000b'", "k\x00": ["\x00"]})
    agent.complete_tool_use("tu_1", "Bash", {"stdout": "a\x00b\ud800c", "stderr": ""})
    agent.complete_turn(
        Usage(input_tokens=1), cost_usd=0.01, duration_ms=5, num_turns=1, claude_session_id="c"
    )
    app.save(agent)

    for state in stored_states(database_url):
        assert b"\x00" not in state and rb"\u0000" not in state.replace(rb"\\u0000", b"")
        state.decode()  # valid UTF-8: a lone surrogate could not be encoded
    assert catch_up(database_url) > 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        chat = [row[0] for row in conn.execute("SELECT text FROM chat ORDER BY notification_id")]
        assert chat[:3] == [
            f"a{NUL_MARKER}b",
            f"lone {REPLACEMENT} surrogate, a pair \U0001f600",
            r"the text \u0000 is not a NUL",
        ]
        assert chat[3] == f"out: {NUL_MARKER}{NUL_MARKER} {REPLACEMENT}"
        assert conn.execute("SELECT title, cwd FROM sessions").fetchone() == (
            f"title {NUL_MARKER} with nul",
            f"/work/{NUL_MARKER}dir",
        )
        (output,) = conn.execute(
            "SELECT payload -> 'output' ->> 'stdout' FROM events "
            "WHERE event_type = 'ToolUseCompleted'"
        ).fetchone()
        assert output == f"a{NUL_MARKER}b{REPLACEMENT}c"
        (prompt,) = conn.execute(
            "SELECT payload ->> 'system_prompt' FROM events WHERE event_type = 'AgentCreated'"
        ).fetchone()
        assert prompt == f"be {NUL_MARKER} brief"
        live = snapshot(conn)
        assert faults(conn).counts == dict.fromkeys(live, 0)
    rebuild(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert snapshot(conn) == live
    # The aggregates load from what was stored.
    assert app.get_agent(agent.id).system_prompt == f"be {NUL_MARKER} brief"


# --- raw rows in the store, as an older podium (or a hand) left them --------------------


def append_raw(conn: psycopg.Connection, stream_id: uuid.UUID, topic: str, state: bytes) -> int:
    """Append stored state to a stream as it is, past the codec; returns its notification id."""
    (version,) = conn.execute(
        "SELECT coalesce(max(originator_version), 0) + 1 FROM podium_events "
        "WHERE originator_id = %s",
        (stream_id,),
    ).fetchone()
    (notification_id,) = conn.execute(
        "INSERT INTO podium_events (originator_id, originator_version, topic, state) "
        "VALUES (%s, %s, %s, %s) RETURNING notification_id",
        (stream_id, version, topic, state),
    ).fetchone()
    return int(notification_id)


def state(payload: dict[str, Any]) -> bytes:
    return msgspec.json.encode({"timestamp": TIMESTAMP, "payload": payload})


USER_MESSAGE = get_topic(UserMessageSent)


def message(text: bytes) -> bytes:
    """A user message's stored state whose text is ``text``, as JSON bytes."""
    return state({"v": 1, "text": "TEXT"}).replace(b"TEXT", text)


def poison_the_store(database_url: str) -> dict[str, int]:
    """A session with a good message and every kind of poison, then another good message."""
    app = open_podium(database_url)
    try:
        session = app.start_session("poisoned", "/w")
        app.send_user_message(session.id, "before the poison")
    finally:
        app.close()
    orphan = uuid.uuid4()  # an agent stream whose first event is no AgentCreated
    with psycopg.connect(database_url, autocommit=True) as conn:
        ids = {
            "nul": append_raw(
                conn, session.id, USER_MESSAGE, message(rb"old \u0000 podium \\u0000")
            ),
            "surrogate": append_raw(conn, session.id, USER_MESSAGE, message(rb"lone \ud800")),
            "not_utf8": append_raw(conn, session.id, USER_MESSAGE, message(b"\xff")),
            "wrong_shape": append_raw(conn, session.id, USER_MESSAGE, state({"v": 1, "text": 3})),
            "not_json": append_raw(conn, session.id, USER_MESSAGE, b'{"timestamp": "a\x00'),
            "unknown_topic": append_raw(conn, session.id, "domain.nowhere:Gone", state({"v": 1})),
            "bad_fields": append_raw(
                conn,
                uuid.uuid4(),
                get_topic(SystemLogged),
                state(
                    {"v": 1, "level": "error", "message": "m", "context": {}, "session_id": "no"}
                ).replace(TIMESTAMP.encode(), b"yesterday"),
            ),
            "projector_raises": append_raw(
                conn,
                orphan,
                get_topic(AgentTextEmitted),
                state({"v": 1, "task": None, "text": "who am I?"}),
            ),
        }
    app = open_podium(database_url)
    try:
        # In another session: an aggregate whose stream holds an event that
        # cannot be decoded cannot be loaded (only the read side skips it).
        app.send_user_message(app.start_session("later", "/w").id, "after the poison")
    finally:
        app.close()
    return ids


UNREADABLE = ("not_utf8", "wrong_shape", "not_json")


def fault_rows(conn: psycopg.Connection) -> list[tuple[str, int]]:
    return conn.execute(
        "SELECT projection, notification_id FROM projection_faults ORDER BY 2, 1"
    ).fetchall()


def test_a_runner_flows_past_poison_in_the_store_and_records_each_fault_once(database_url):
    ids = poison_the_store(database_url)
    runners = [ProjectionRunner(database_url, batch_size=3) for _ in range(2)]

    def run(runner: ProjectionRunner) -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            runner.catch_up(conn)

    threads = [threading.Thread(target=run, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    catch_up(database_url)  # the system log entries about the faults

    with psycopg.connect(database_url, autocommit=True) as conn:
        chat = [row[0] for row in conn.execute("SELECT text FROM chat ORDER BY notification_id")]
        assert chat == [
            "before the poison",
            rf"old {NUL_MARKER} podium \u0000",  # cleaned as it is read: projected
            f"lone {REPLACEMENT}",
            "after the poison",
        ]
        recorded = fault_rows(conn)
        kinds = {notification_id: kind for kind, notification_id in ids.items()}
        by_kind: dict[str, set[str]] = {}
        for projection, notification_id in recorded:
            by_kind.setdefault(kinds[notification_id], set()).add(projection)
        # Each undecodable message, for the read models that take user messages;
        # the unknown topic for every read model; the orphan for those that
        # look up who wrote it (the others fold it without asking).
        assert by_kind.pop("unknown_topic") == set(snapshot(conn))
        for kind in UNREADABLE:
            assert by_kind.pop(kind) == {"sessions", "chat"}
        assert {"chat", "agent_logs"} <= by_kind.pop("projector_raises")
        assert by_kind.pop("bad_fields") == {"system_logs"}
        assert by_kind == {}
        assert len(recorded) == len(set(recorded))

        report = faults(conn)
        assert report.counts["chat"] == len(UNREADABLE) + 2
        assert sum(report.counts.values()) == len(recorded) == len(report.recent)
        (error,) = {f.error for f in report.recent if f.notification_id == ids["not_json"]}
        assert error.startswith("DecodeError")
        logged = conn.execute(
            "SELECT message, context FROM system_logs WHERE level = 'error' ORDER BY 1"
        ).fetchall()
        assert len(logged) == len(kinds) - 2  # one per skipped event (nul, surrogate: none)
        assert {int(c["notification_id"]) for _, c in logged} == set(kinds) - {
            ids["nul"],
            ids["surrogate"],
        }
        positions = conn.execute("SELECT DISTINCT notification_id FROM projection_tracking")
        assert positions.fetchall() == [
            conn.execute("SELECT max(notification_id) FROM podium_events").fetchone()
        ]


def test_the_events_view_reads_every_stored_row(database_url):
    ids = poison_the_store(database_url)
    catch_up(database_url)  # the read side records what cannot be decoded
    with psycopg.connect(database_url, autocommit=True) as conn:
        count, longest = conn.execute("SELECT count(*), max(payload::text) FROM events").fetchone()
        assert count == conn.execute("SELECT count(*) FROM podium_events").fetchone()[0]
        assert longest
        payloads = dict(
            conn.execute(
                "SELECT notification_id, payload FROM events WHERE notification_id = ANY(%s)",
                (list(ids.values()),),
            ).fetchall()
        )
    assert payloads[ids["nul"]]["text"] == rf"old {NUL_MARKER} podium \u0000"
    assert payloads[ids["surrogate"]]["text"] == f"lone {REPLACEMENT}"
    assert payloads[ids["wrong_shape"]] == {"v": 1, "text": 3}  # JSON, just not podium's
    assert "unreadable" in payloads[ids["not_utf8"]]
    assert "unreadable" in payloads[ids["not_json"]]
    # JSON, but its timestamp and session id are none: all of it is payload.
    assert payloads[ids["bad_fields"]]["unreadable"]["timestamp"] == "yesterday"


@pytest.mark.parametrize("name", [q.name for q in list_queries()])
def test_audit_queries_read_a_poisoned_store(database_url, name):
    poison_the_store(database_url)
    catch_up(database_url)
    with psycopg.connect(database_url) as conn:
        (session_id,) = conn.execute("SELECT session_id FROM sessions LIMIT 1").fetchone()
    needs = {p.name for p in get_query(name).params if p.required}
    result = run_named(database_url, name, {"session": str(session_id)} if needs else {})
    assert result is not None


def test_rebuild_all_skips_the_same_poison_and_equals_the_live_models(database_url):
    history(database_url, sessions=2, agents=2, turns=3)
    ids = poison_the_store(database_url)
    history(database_url, sessions=1, agents=1, turns=2)
    catch_up(database_url, batch_size=50)
    with psycopg.connect(database_url, autocommit=True) as conn:
        live, live_faults = snapshot(conn), fault_rows(conn)
        logged = conn.execute("SELECT count(*) FROM system_logs").fetchone()[0]
    assert live_faults
    rebuild(database_url, batch_size=40, processes=1)  # this process alone
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert snapshot(conn) == live
        assert fault_rows(conn) == live_faults
    done = subprocess.run(  # and the CLI's, which folds in several processes
        [sys.executable, "-m", "gateway.cli", "rebuild", "--all"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert snapshot(conn) == live
        assert fault_rows(conn) == live_faults
    catch_up(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        # Nothing new was skipped, so nothing new was said.
        assert conn.execute("SELECT count(*) FROM system_logs").fetchone()[0] == logged
    assert ids


def test_a_rebuild_alone_finds_the_poison_the_runner_never_saw(database_url):
    ids = poison_the_store(database_url)
    rebuild(database_url, batch_size=4)
    catch_up(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        skipped = {notification_id for _, notification_id in fault_rows(conn)}
        assert skipped == set(ids.values()) - {ids["nul"], ids["surrogate"]}
        chat = [row[0] for row in conn.execute("SELECT text FROM chat ORDER BY notification_id")]
        assert chat[0] == "before the poison" and chat[-1] == "after the poison"
        errors = conn.execute("SELECT count(*) FROM system_logs WHERE level = 'error'").fetchone()
        assert errors[0] == len(skipped)


# --- from a real tool's output: the real SDK and CLI, the model double ------------------

POISON_OUTPUT = Path(__file__).parent / "scenarios" / "poison_output.toml"


@pytest.mark.anyio
async def test_a_tools_nul_and_non_utf8_output_is_recorded_marked(database_url, tmp_path):
    os.chmod(tmp_path, 0o755)
    config = SystemConfig(
        cwd=tmp_path / "work",
        database_url=database_url,
        data_dir=tmp_path / "data",
        demo=True,
        scenario=POISON_OUTPUT,
    )
    async with System(config) as system:
        session = await asyncio.to_thread(system.app.start_session, "poison", str(config.cwd))
        await asyncio.to_thread(system.app.create_agent, session.id, "pat")
        task = await asyncio.to_thread(
            system.app.command_agent, session.id, "pat", "print the poison", "user"
        )
        # Projected: the turn's end is in the agents' read model.
        await until(system, "SELECT count(*) FROM agents WHERE name = 'pat' AND turns = 1")
        (output,) = await rows(  # Bash's output, as the CLI reports it
            system,
            "SELECT payload -> 'output' ->> 'stdout' FROM events "
            "WHERE event_type = 'ToolUseCompleted' AND payload ->> 'task' = %s",
            task,
        )
        logged = await rows(
            system,
            "SELECT count(*) FROM agent_logs l JOIN agents a USING (agent_id) "
            "WHERE a.name = 'pat' AND l.category = 'tool'",
        )
        (reply,) = await rows(
            system, "SELECT text FROM chat WHERE author = 'pat' AND text LIKE 'It printed%%'"
        )
        with psycopg.connect(system.conninfo) as conn:
            counts = faults(conn).counts
    # The CLI reads the 0xff byte as U+FFFD; the NULs reach podium, which marks them.
    assert output == (f"a{NUL_MARKER}b{REPLACEMENT}c{NUL_MARKER}",)
    assert logged[0][0] >= 2  # the tool's request and its result
    assert NUL_MARKER in reply[0]
    assert set(counts.values()) == {0}


def test_the_api_says_which_events_each_read_model_skipped(served, client):
    poison = poison_the_store(served.conninfo)

    def skipped() -> dict[str, Any] | None:
        answer = client.get("/api/projection-faults")
        assert answer.status_code == 200, answer.text
        found = answer.json()
        ids = {fault["notification_id"] for fault in found["recent"]}
        return found if {poison[name] for name in UNREADABLE} <= ids else None

    found = poll(skipped)
    assert set(found["counts"]) == set(NAMES)  # every read model is named, skipping or not
    assert all(fault["error"] for fault in found["recent"])
    assert poison["nul"] not in {f["notification_id"] for f in found["recent"]}  # cleaned, kept
