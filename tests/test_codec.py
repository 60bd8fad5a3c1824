"""The msgspec JSON codec: round trips, plain JSON for SQL, and upcasting."""

from __future__ import annotations

import json

import msgspec
import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.agent import Agent, AgentCreated, AgentCreatedV1, AgentCreatedV2
from domain.names import agent_stream_id
from eventlog.reading import read_events
from tests.unit.test_codec import busy_team


def test_the_log_reads_back_from_postgresql_what_the_aggregates_saved(app, database_url):
    session, agent, summarizer = busy_team(app)
    with psycopg.connect(database_url) as conn:
        read = read_events(conn, 0, 1_000)
    saved = {
        (e.originator_id, e.originator_version): e
        for s in (session, agent, summarizer)
        for e in app.events.get(s.id)
    }
    by_stream = {(r.stream_id, r.version): r for r in read}
    assert saved.keys() <= by_stream.keys()
    for key, event in saved.items():
        recorded = by_stream[key]
        assert recorded.event_class is type(event)
        assert (recorded.timestamp, recorded.payload) == (event.timestamp, event.payload)
    reloaded = app.get_agent(agent.id)
    assert (reloaded.status, reloaded.cost_usd, reloaded.input_tokens) == ("deleted", 0.0125, 10)


def test_stored_state_is_plain_json_that_sql_can_read(app, database_url):
    session, agent, _ = busy_team(app)
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
            "originator_topic": get_topic(Agent),
        }
    )
    assert b'"v":1' in state
    app.recorder.insert_events([StoredEvent(agent_id, 1, get_topic(AgentCreated), state)])

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
