"""The msgspec JSON codec: round trips, plain JSON for SQL, and upcasting."""

from __future__ import annotations

import json
import uuid

import msgspec
import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from domain.agent import AgentCreated, AgentCreatedV1, AgentCreatedV2
from domain.application import Podium
from domain.codec import MsgspecTranscoder, decode_state
from domain.events import Usage
from domain.names import agent_stream_id


def _busy_agent(app: Podium):
    session = app.start_session("round trip", "/work", budget_usd=2.5)
    app.send_user_message(session.id, "create alice ✓")
    session = app.get_session(session.id)
    session.record_tool_use("tu_0", "mcp__podium__create_agent", {"name": "alice", "n": [1, 2]})
    session.record_reply("Created alice.")
    session.complete_turn(
        Usage(input_tokens=5, output_tokens=7),
        cost_usd=0.002,
        duration_ms=900,
        num_turns=1,
        claude_session_id="cs",
        model="claude-sonnet-4-5",
    )
    app.save(session)
    agent = app.create_agent(
        session.id, "alice", template="builder", allowed_tools=("Write", "Bash")
    )
    agent.command("write hello.py")
    agent.emit_thinking("hmm")
    agent.emit_text("writing")
    agent.request_tool_use("tu_1", "Write", {"file_path": "hello.py", "content": "print(1)\n"})
    agent.complete_tool_use("tu_1", "Write", {"ok": True, "lines": [1]})
    agent.record_file_change("hello.py", "created", "+print(1)")
    agent.complete_turn(
        Usage(input_tokens=10, output_tokens=3, cache_read_input_tokens=4),
        cost_usd=0.0125,
        duration_ms=1200,
        num_turns=2,
        claude_session_id="cs2",
    )
    agent.change_status("hibernating", "idle for 10 minutes")
    agent.interrupt("user asked")
    agent.fail("API overloaded")
    agent.summarize(3, "wrote hello")
    agent.delete("done")
    app.save(agent)
    app.write_system_log("warning", "disk nearly full", {"free": "1G"}, session.id)
    return session, agent


def test_every_event_round_trips_through_the_store(app):
    session, agent = _busy_agent(app)
    for stream_id in (session.id, agent.id):
        stored = list(app.events.get(stream_id))
        assert stored, stream_id
        for event in stored:
            state = app.mapper.to_stored_event(event).state
            again = decode_state(app.mapper.to_stored_event(event).topic, state)
            assert again.payload == event.payload
            assert again.timestamp == event.timestamp
    reloaded = app.get_agent(agent.id)
    assert (reloaded.status, reloaded.cost_usd, reloaded.input_tokens) == ("deleted", 0.0125, 10)


def test_stored_state_is_plain_json_that_sql_can_read(app, database_url):
    session, agent = _busy_agent(app)
    with psycopg.connect(database_url) as conn:
        raw = conn.execute(
            "SELECT convert_from(state, 'UTF8') FROM podium_events WHERE originator_id = %s "
            "AND originator_version = 1",
            (agent.id,),
        ).fetchone()[0]
        rows = conn.execute(
            "SELECT stream_type, event_type, payload, session_id, recorded_at FROM events "
            "WHERE stream_id = %s ORDER BY version",
            (agent.id,),
        ).fetchall()
    state = json.loads(raw)
    assert set(state) == {"timestamp", "payload", "originator_topic"}
    assert state["payload"]["v"] == 2 and state["payload"]["name"] == "alice"
    assert "_type_" not in raw  # no type tagging beyond the schema version
    assert rows[0][:2] == ("agent", "AgentCreated")
    assert rows[0][2]["allowed_tools"] == ["Write", "Bash"]
    assert all(r[3] == session.id for r in rows)
    assert [r[1] for r in rows][-1] == "AgentDeleted"


def test_transcoder_is_plain_msgspec_json():
    transcoder = MsgspecTranscoder()
    obj = {"a": 1, "b": [True, None, "x"], "u": str(uuid.UUID(int=1))}
    assert transcoder.decode(transcoder.encode(obj)) == obj
    assert transcoder.encode({"k": "é"}) == '{"k":"é"}'.encode()


def test_a_v1_payload_is_read_as_v2_and_history_is_not_rewritten(app, database_url):
    session = app.start_session()
    agent_id = agent_stream_id(session.id, "old", 0)
    v1 = AgentCreatedV1(
        session_id=session.id,
        name="old",
        model="claude-3-5-sonnet",
        system_prompt="be brief",
        cwd="/w",
    )
    state = msgspec.json.encode(
        {
            "timestamp": "2025-01-02T03:04:05Z",
            "payload": v1,
            "originator_topic": "domain.agent:Agent",
        }
    )
    assert b'"v":1' in state
    app.recorder.insert_events([StoredEvent(agent_id, 1, "domain.agent:AgentCreated", state)])

    agent = app.get_agent(agent_id)
    assert (agent.name, agent.model, agent.incarnation, agent.session_id) == (
        "old",
        "claude-3-5-sonnet",
        0,
        session.id,
    )
    (created,) = list(app.events.get(agent_id))
    assert isinstance(created, AgentCreated)
    assert created.payload == AgentCreatedV2(
        session_id=session.id,
        name="old",
        incarnation=0,
        model="claude-3-5-sonnet",
        system_prompt="be brief",
        template=None,
        cwd="/w",
    )
    # The upcast agent takes new events; its first event stays v1 in the store.
    agent.command("carry on")
    app.save(agent)
    with psycopg.connect(database_url) as conn:
        versions = conn.execute(
            "SELECT version, payload->>'v' FROM events WHERE stream_id = %s ORDER BY version",
            (agent_id,),
        ).fetchall()
    assert versions == [(1, "1"), (2, "3")]  # AgentCommanded is at v3 (its Idempotency-Key)
    assert app.find_agent(session.id, "old").id == agent_id


def test_a_payload_that_breaks_its_schema_is_refused_on_read():
    bad = msgspec.json.encode({"timestamp": "2025-01-02T03:04:05Z", "payload": {"v": 2, "name": 3}})
    with pytest.raises(msgspec.ValidationError):
        decode_state("domain.agent:AgentCreated", bad)
