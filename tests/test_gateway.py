"""The gateway through HTTP: a real server, real PostgreSQL, the model double."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.session import SessionResumed
from domain.statuses import AgentStatus, SessionStatus
from domain.vocabulary import Category, Level
from eventlog.postgres import open_podium
from tests.gateway_server import Served, serve_in_thread, until

UNKNOWN = "00000000-0000-4000-8000-000000000000"
JSON = {"Content-Type": "application/json"}  # what every write needs, body or not


def new_session(client: httpx.Client) -> str:
    created = client.post("/api/sessions", json={"title": "test"})
    assert created.status_code == 201, created.text
    return created.json()["session_id"]


def test_health_and_openapi(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/api/sessions/{session_id}/messages" in document["paths"]
    assert "NewAgent" in document["components"]["schemas"]


def test_up_with_a_session_resumes_it_and_leaves_an_ended_one_ended(
    database_url: str, tmp_path: Path
) -> None:
    app = open_podium(database_url)
    try:
        ongoing = app.start_session("ongoing", str(tmp_path))
        ended = app.start_session("ended", str(tmp_path))
        ended.end("done")
        app.save(ended)
        for session, resumes in ((ongoing, 1), (ended, 0)):
            served_here = tmp_path / session.title
            served_here.mkdir()
            with serve_in_thread(database_url, served_here, session_id=session.id):
                pass
            kinds = [type(event) for event in app.events.get(session.id)]
            assert kinds.count(SessionResumed) == resumes, kinds
    finally:
        app.close()


def test_meta_gives_the_ui_the_domains_words(client: httpx.Client) -> None:
    meta = client.get("/api/meta").json()
    assert meta["statuses"]["agent"]["WORKING"] == AgentStatus.WORKING
    assert meta["statuses"]["session"]["ENDED"] == SessionStatus.ENDED
    assert meta["categories"] == list(Category)
    assert meta["levels"] == list(Level)


def test_the_chat_flow_end_to_end(client: httpx.Client, served: Served) -> None:
    session = new_session(client)
    sent = client.post(
        f"/api/sessions/{session}/messages", json={"text": "create an agent called alice"}
    )
    assert sent.status_code == 202
    until(lambda: client.get(f"/api/sessions/{session}/agents").json()["agents"])
    client.post(
        f"/api/sessions/{session}/messages",
        json={"text": "tell alice to create a simple hello world app"},
    )

    def alice_done():
        agents = client.get(f"/api/sessions/{session}/agents").json()["agents"]
        return agents and agents[0]["turns"] == 1 and agents[0]["status"] == "idle"

    until(alice_done)
    changes = client.get(f"/api/sessions/{session}/file-changes").json()["items"]
    assert [c["path"] for c in changes] == ["hello.py", "hello.py"]
    assert "+print(" in changes[0]["diff"]
    logs = client.get(f"/api/sessions/{session}/logs", params={"category": "tool"}).json()
    assert {item["event_type"] for item in logs["items"]} == {
        "ToolUseRequested",
        "ToolUseCompleted",
    }
    found = client.get(f"/api/sessions/{session}/logs", params={"q": "hello.py"}).json()
    assert found["items"]
    roles = {m["role"] for m in client.get(f"/api/sessions/{session}/chat").json()["items"]}
    assert roles == {"user", "orchestrator", "agent"}
    costs = client.get(f"/api/sessions/{session}/costs").json()["costs"]
    assert sum(float(c["cost_usd"]) for c in costs) > 0
    page = client.get(f"/api/sessions/{session}/events", params={"limit": 5}).json()
    assert [e["id"] for e in page["events"]] == sorted(e["id"] for e in page["events"])
    assert page["next_after"] == page["events"][-1]["id"]
    assert (served.cwd / "hello.py").exists()


def test_direct_agent_commands_and_idempotency(client: httpx.Client) -> None:
    session = new_session(client)
    key = {"Idempotency-Key": "create-bob-1"}
    first = client.post(f"/api/sessions/{session}/agents", json={"name": "bob"}, headers=key)
    again = client.post(f"/api/sessions/{session}/agents", json={"name": "bob"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()  # answered again, not executed again
    duplicate = client.post(f"/api/sessions/{session}/agents", json={"name": "BOB"})
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.json()["detail"]
    other = client.post(f"/api/sessions/{session}/agents/bob/interrupt", headers={**key, **JSON})
    assert other.status_code == 422  # the key belongs to another request
    task = client.post(
        f"/api/sessions/{session}/agents/bob/commands",
        json={"command": "create a simple hello world app"},
    )
    assert task.status_code == 202 and task.json()["task"] == "create-a-simple-hello-world"
    deleted = client.delete(f"/api/sessions/{session}/agents/bob", headers=JSON)
    assert deleted.status_code == 202
    refused = client.post(f"/api/sessions/{session}/agents/bob/commands", json={"command": "x"})
    assert refused.status_code == 409


def test_the_agents_answer_says_how_many_commands_wait(client: httpx.Client) -> None:
    session = new_session(client)
    assert client.post(f"/api/sessions/{session}/agents", json={"name": "sam"}).status_code == 201
    commands = ["take the slow road", "note one", "note two", "note three", "note four"]
    for command in commands:  # the first streams slowly: the others wait behind it
        sent = client.post(
            f"/api/sessions/{session}/agents/sam/commands", json={"command": command}
        )
        assert sent.status_code == 202, sent.text

    def sam() -> dict[str, Any]:
        (found,) = client.get(f"/api/sessions/{session}/agents").json()["agents"]
        assert "queued" in found, found
        return dict(found)

    seen = [sam()]

    def done() -> bool:
        seen.append(sam())
        return (seen[-1]["turns"], seen[-1]["status"]) == (len(commands), "idle")

    until(done)
    assert ("working", 4) in [(s["status"], s["queued"]) for s in seen]
    assert seen[-1]["queued"] == 0


def sse_ids(served: Served, session: str, last_id: int | None, count: int) -> list[int]:
    """Read ``count`` events from the stream, resuming after ``last_id``."""
    if count <= 0:
        return []
    headers = {"Last-Event-ID": str(last_id)} if last_id is not None else {}
    ids: list[int] = []
    deadline = time.monotonic() + 20
    with (
        httpx.Client(base_url=served.url, timeout=30) as http,
        http.stream("GET", "/api/stream", params={"session": session}, headers=headers) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("id: "):
                ids.append(int(line[4:]))
            if len(ids) == count or time.monotonic() > deadline:
                break
    return ids


def _log_some(served: Served, session: str, n: int) -> None:
    """Events in the session that nothing reacts to: system log entries naming it."""
    for i in range(n):
        served.app.write_system_log("info", f"note {i}", session_id=UUID(session))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(cuts=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=6))
def test_sse_resumes_with_no_gap_and_no_duplicate(
    served: Served, client: httpx.Client, cuts: list[int]
) -> None:
    session = new_session(client)
    _log_some(served, session, 3)  # a backlog: SessionStarted and three log entries
    available = 4
    received: list[int] = []
    last = 0
    for cut in cuts:  # disconnect after `cut` events, then two more arrive while away
        received += sse_ids(served, session, last, min(cut, available - len(received)))
        last = received[-1] if received else last
        _log_some(served, session, 2)
        available += 2
    received += sse_ids(served, session, last, available - len(received))
    total = available
    with psycopg.connect(served.conninfo) as conn:
        truth = [
            r[0]
            for r in conn.execute(
                "SELECT notification_id FROM events WHERE session_id = %s "
                "ORDER BY notification_id LIMIT %s",
                (session, total),
            )
        ]
    assert received == truth


def test_a_sessions_pages_hold_what_its_stream_carries(
    served: Served, client: httpx.Client
) -> None:
    session = new_session(client)
    _log_some(served, session, 2)  # system log entries naming the session
    served.app.write_system_log("info", "about nothing in particular")
    created = client.post(f"/api/sessions/{session}/agents", json={"name": "alice"})
    assert created.status_code == 201, created.text
    wanted = 4  # SessionStarted, two log entries, AgentCreated
    streamed = sse_ids(served, session, 0, wanted)

    def paged() -> list[int]:
        page = client.get(f"/api/sessions/{session}/events", params={"limit": 100}).json()
        return [event["id"] for event in page["events"]]

    until(lambda: len(paged()) >= wanted)
    assert paged() == streamed


def test_the_stream_carries_live_events_and_heartbeat_frames(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as http:
        session = new_session(http)
        with http.stream("GET", "/api/stream", params={"session": session, "after": 0}) as stream:
            lines = stream.iter_lines()
            assert next(lines) == "retry: 2000"
            seen = [line for line in (next(lines) for _ in range(4))]
    assert "event: event" in seen and any(line.startswith("data: {") for line in seen)


BAD_REQUESTS = [
    ("GET", f"/api/sessions/{UNKNOWN}", None, 404),
    ("GET", "/api/sessions/not-a-uuid", None, 404),
    ("POST", "/api/sessions", "{not json", 400),
    ("POST", "/api/sessions", {"title": 5}, 422),
    ("POST", "/api/sessions", {"budget_usd": -1}, 422),
    ("POST", "/api/sessions", {"unknown": 1}, 422),
    ("POST", "/api/sessions", {"cwd": "/definitely/not/here"}, 422),
    ("POST", f"/api/sessions/{UNKNOWN}/messages", {"text": "hi"}, 404),
    ("POST", "/api/sessions/{s}/messages", {"text": ""}, 422),
    ("POST", "/api/sessions/{s}/messages", {}, 422),
    ("POST", "/api/sessions/{s}/messages", ["text"], 422),
    ("POST", "/api/sessions/{s}/agents", {"name": "9lives"}, 422),
    ("POST", "/api/sessions/{s}/agents", {"name": "a", "model": "gpt-4"}, 422),
    ("POST", "/api/sessions/{s}/agents", {"name": "a", "template": "nope"}, 422),
    ("POST", f"/api/sessions/{UNKNOWN}/agents", {"name": "a"}, 404),
    ("POST", "/api/sessions/{s}/agents/ghost/commands", {"command": "x"}, 404),
    ("POST", "/api/sessions/{s}/agents/ghost/commands", {"command": ""}, 422),
    ("POST", "/api/sessions/{s}/agents/ghost/interrupt", None, 404),
    ("DELETE", "/api/sessions/{s}/agents/ghost", None, 404),
    ("GET", f"/api/sessions/{UNKNOWN}/agents", None, 404),
    ("GET", f"/api/sessions/{UNKNOWN}/costs", None, 404),
    ("GET", "/api/sessions/{s}/chat?limit=0", None, 422),
    ("GET", "/api/sessions/{s}/chat?limit=abc", None, 422),
    ("GET", "/api/sessions/{s}/chat?after=-1", None, 422),
    ("GET", "/api/sessions/{s}/logs?category=bogus", None, 422),
    ("GET", "/api/sessions/{s}/logs?q=" + "x" * 300, None, 422),
    ("GET", "/api/sessions/{s}/file-changes?limit=100000", None, 422),
    ("GET", "/api/sessions/{s}/events?after=x", None, 422),
    ("GET", "/api/system-logs?level=loud", None, 422),
    ("GET", "/api/stream?session=nope", None, 422),
    ("GET", "/api/stream?category=nope", None, 422),
    ("GET", "/api/stream?after=abc", None, 422),
    ("GET", "/api/nothing-here", None, 404),
    ("PUT", "/api/sessions", {}, 405),
]


def test_bad_input_on_every_endpoint_is_a_4xx_problem(client: httpx.Client) -> None:
    session = new_session(client)
    for method, path, body, status in BAD_REQUESTS:
        url = path.replace("{s}", session)
        if isinstance(body, str):
            response = client.request(method, url, content=body, headers=JSON)
        elif body is None:
            response = client.request(method, url, headers=JSON)
        else:
            response = client.request(method, url, json=body)
        assert response.status_code == status, (method, url, body, response.text)
        assert response.headers["content-type"] == "application/problem+json", url
        problem = response.json()
        assert problem["status"] == status and problem["detail"], problem
    text = client.post(
        f"/api/sessions/{session}/messages", content="hi", headers={"Content-Type": "text/plain"}
    )
    assert text.status_code == 415
    huge = client.post(f"/api/sessions/{session}/messages", json={"text": "x" * 300_000})
    assert huge.status_code == 413
