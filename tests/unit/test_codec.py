"""The codec without a database: round trips, one decoder for the mapper and the log's
readers, upcasting and cleaning on read, and what cannot be read."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.agent import Agent, AgentCreated, AgentCreatedV1, AgentCreatedV2
from domain.application import Podium
from domain.codec import MsgspecTranscoder, state_decoder
from domain.events import PodiumCreated, PodiumEvent, Usage
from domain.session import Session, UserMessageSent, UserMessageSentV1
from domain.summarizer import Summaries
from domain.text import NUL_MARKER, REPLACEMENT
from eventlog.reading import Unreadable, decode_rows

TIMESTAMP = "2025-01-02T03:04:05Z"


def busy_team(app: Podium) -> tuple[Session, Agent, Summaries]:
    """A session, an agent and the summarizer: between them every kind of event."""
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
    agent.record_file_change("hello.py", "created", "+print(1)", tool="Edit", tool_use_id="toolu_1")
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
    agent.delete("done")
    app.save(agent)
    app.write_system_log("warning", "disk nearly full", {"free": "1G"}, session.id)
    summarizer = Summaries.open(session.id)
    summarizer.summarize(3, agent.id, "Alice wrote hello.py")
    summarizer.called(
        "claude-haiku-4-5", Usage(input_tokens=900, output_tokens=40), events=1, duration_ms=300
    )
    summarizer.failed("overloaded", events=1, attempt=1, retry_in_s=2.0)
    app.save(summarizer)
    return session, agent, summarizer


def stored_events(app: Podium, *streams: uuid.UUID) -> list[StoredEvent]:
    return [app.mapper.to_stored_event(event) for s in streams for event in app.events.get(s)]


def rows(*stored: StoredEvent) -> list[tuple[object, ...]]:
    """Stored events as the log's reader gets them from PostgreSQL, numbered from 1."""
    return [
        (
            n,
            uuid.UUID(str(event.originator_id)).bytes,
            event.originator_version,
            event.topic,
            event.state,
        )
        for n, event in enumerate(stored, start=1)
    ]


def state(payload: object, **more: object) -> bytes:
    return msgspec.json.encode({"timestamp": TIMESTAMP, "payload": payload, **more})


def test_every_event_round_trips_through_the_codec() -> None:
    app = Podium()
    session, agent, summarizer = busy_team(app)
    for stream_id in (session.id, agent.id, summarizer.id):
        events = list(app.events.get(stream_id))
        assert events, stream_id
        for event in events:
            assert isinstance(event, PodiumEvent | PodiumCreated)
            stored = app.mapper.to_stored_event(event)
            again = state_decoder(stored.topic).decode(stored.state)
            assert again.payload == event.payload
            assert again.timestamp == event.timestamp
    reloaded = app.get_agent(agent.id)
    assert (reloaded.status, reloaded.cost_usd, reloaded.input_tokens) == ("deleted", 0.0125, 10)


def test_the_mapper_and_the_logs_reader_decode_every_event_alike() -> None:
    app = Podium()
    session, agent, summarizer = busy_team(app)
    stored = stored_events(app, session.id, agent.id, summarizer.id)
    read = decode_rows(rows(*stored))
    assert len(read) == len(stored)
    for recorded, event in zip(read, stored, strict=True):
        loaded = app.mapper.to_domain_event(event)
        assert recorded.event_class is type(loaded)
        assert (recorded.stream_id, recorded.version) == (
            loaded.originator_id,
            event.originator_version,
        )
        assert (recorded.timestamp, recorded.payload) == (loaded.timestamp, loaded.payload)


def test_each_topic_has_one_decoder_made_once() -> None:
    topic = get_topic(AgentCreated)
    decoder = state_decoder(topic)
    assert state_decoder(topic) is decoder
    assert (decoder.event_class, decoder.latest) == (AgentCreated, AgentCreatedV2)


def test_an_old_payload_is_upcast_alike_by_the_mapper_and_the_reader() -> None:
    session_id, agent_id = uuid.uuid4(), uuid.uuid4()
    v1 = AgentCreatedV1(
        session_id=session_id, name="old", model="claude-3-5-sonnet", system_prompt="", cwd="/w"
    )
    old = StoredEvent(
        agent_id, 1, get_topic(AgentCreated), state(v1, originator_topic=get_topic(Agent))
    )
    latest = AgentCreatedV2(
        session_id=session_id,
        name="old",
        incarnation=0,
        model="claude-3-5-sonnet",
        system_prompt="",
        template=None,
        cwd="/w",
    )
    (recorded,) = decode_rows(rows(old))
    assert recorded.payload == latest
    created = Podium().mapper.to_domain_event(old)
    assert isinstance(created, AgentCreated) and created.payload == latest
    assert created.originator_topic == get_topic(Agent)


def test_the_reader_cleans_old_escapes_and_leaves_out_what_cannot_be_read() -> None:
    message, stream = get_topic(UserMessageSent), uuid.uuid4()

    def text(raw: bytes) -> StoredEvent:
        body = state({"v": 1, "text": "TEXT"}).replace(b"TEXT", raw)
        return StoredEvent(stream, 1, message, body)

    unreadable: list[Unreadable] = []
    read = decode_rows(
        rows(
            text(rb"old \u0000 podium \\u0000"),
            text(rb"lone \ud800"),
            text(b"\xff"),
            StoredEvent(stream, 1, message, state({"v": 1, "text": 3})),
            StoredEvent(stream, 1, "domain.nowhere:Gone", state({"v": 1})),
            text(b"after"),
        ),
        unreadable,
    )
    assert [(r.notification_id, r.payload) for r in read] == [
        (1, UserMessageSentV1(text=rf"old {NUL_MARKER} podium \u0000")),
        (2, UserMessageSentV1(text=f"lone {REPLACEMENT}")),
        (6, UserMessageSentV1(text="after")),
    ]
    assert [(u.notification_id, u.event_class) for u in unreadable] == [
        (3, UserMessageSent),
        (4, UserMessageSent),
        (5, None),  # its topic names no podium event
    ]
    assert unreadable[0].error.startswith("DecodeError")
    assert unreadable[1].error.startswith("ValidationError")


def test_a_payload_that_breaks_its_schema_is_refused_on_read() -> None:
    bad = msgspec.json.encode({"timestamp": TIMESTAMP, "payload": {"v": 2, "name": 3}})
    with pytest.raises(msgspec.ValidationError):
        state_decoder(get_topic(AgentCreated)).decode(bad)


def test_transcoder_is_plain_msgspec_json() -> None:
    transcoder = MsgspecTranscoder()
    obj = {"a": 1, "b": [True, None, "x"], "u": str(uuid.UUID(int=1))}
    assert transcoder.decode(transcoder.encode(obj)) == obj
    assert transcoder.encode({"k": "é"}) == '{"k":"é"}'.encode()
