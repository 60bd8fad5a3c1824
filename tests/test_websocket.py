"""/ws over a real socket, with the `websockets` client (issue 12, finding 6).

The same log as /api/stream: live events, resumption with ``?after=``, the
session/agent/category filters; refused to other sites' pages (cross-site
WebSocket hijacking) and, in token mode, to anyone without the token.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from uuid import UUID

import httpx
import msgspec
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.gateway_server import Served, serve_in_thread, until

TOKEN = secrets.token_urlsafe(16)


def socket_url(served: Served, **params: str | int) -> str:
    return served.url.replace("http://", "ws://", 1) + "/ws?" + urlencode(params)


def open_socket(url: str, **options: Any) -> ClientConnection:
    return connect(url, proxy=None, open_timeout=30, **options)


def next_events(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next ``count`` events the socket sends (heartbeats and partial text skipped)."""
    events: list[dict[str, Any]] = []
    while len(events) < count:
        frame = msgspec.json.decode(ws.recv(timeout=60))
        if "id" in frame:
            events.append(frame)
    return events


def stored(client: httpx.Client, session: str) -> list[dict[str, Any]]:
    page = client.get(f"/api/sessions/{session}/events", params={"limit": 500}).json()
    return list(page["events"])


def new_session(client: httpx.Client) -> str:
    return str(client.post("/api/sessions", json={"title": "ws"}).json()["session_id"])


def note(served: Served, session: str, text: str) -> None:
    served.app.write_system_log("info", text, session_id=UUID(session))


def test_live_events_arrive_over_a_real_websocket(served: Served, client: httpx.Client) -> None:
    session = new_session(client)
    [started] = until(lambda: stored(client, session))
    with open_socket(socket_url(served, session=session, after=started["id"])) as ws:
        note(served, session, "first")
        note(served, session, "second")
        events = next_events(ws, 2)
    assert [e["payload"]["message"] for e in events] == ["first", "second"]
    assert {e["session_id"] for e in events} == {session}


def test_a_socket_resumes_after_an_id_with_no_gap_and_no_duplicate(
    served: Served, client: httpx.Client
) -> None:
    session = new_session(client)
    for text in ("a", "b", "c"):
        note(served, session, text)
    backlog = until(lambda: (events := stored(client, session)) and len(events) == 4 and events)
    resume_after = backlog[1]["id"]
    with open_socket(socket_url(served, session=session, after=resume_after)) as ws:
        note(served, session, "d")  # live, after the backlog
        received = next_events(ws, 3)
    everything = until(lambda: (events := stored(client, session)) and len(events) == 5 and events)
    assert [e["id"] for e in received] == [e["id"] for e in everything[2:]]


@pytest.mark.parametrize(
    ("wanted", "matches"),
    [
        ({"agent": "Alice"}, lambda e: e["agent"] == "alice"),
        ({"category": "system"}, lambda e: e["category"] == "system"),
    ],
)
def test_filters_narrow_what_a_socket_carries(
    served: Served, client: httpx.Client, wanted: dict[str, str], matches: Any
) -> None:
    session = new_session(client)
    agents = f"/api/sessions/{session}/agents"
    for name in ("alice", "bob"):
        assert client.post(agents, json={"name": name}).status_code == 201
        note(served, session, f"made {name}")
    expected = until(lambda: [e["id"] for e in stored(client, session) if matches(e)])
    with open_socket(socket_url(served, session=session, after=0, **wanted)) as ws:
        received = next_events(ws, len(expected))
    assert [e["id"] for e in received] == expected
    assert all(matches(e) for e in received)


def test_another_sites_page_cannot_open_the_socket(served: Served) -> None:
    """Cross-site WebSocket hijacking: browsers always send the page's Origin."""
    for origin in ("https://evil.example", "null", served.url.replace("127.0.0.1", "evil")):
        with pytest.raises(InvalidStatus) as refused:
            open_socket(socket_url(served), origin=origin)
        assert refused.value.response.status_code == 403
    # DNS rebinding: the name is the attacker's, the address podium's.
    port = urlsplit(served.url).port
    with (
        socket.create_connection(("127.0.0.1", port)) as connection,
        pytest.raises(InvalidStatus) as refused,
    ):
        open_socket(f"ws://evil.example:{port}/ws", sock=connection)
    assert refused.value.response.status_code == 403
    with open_socket(socket_url(served), origin=served.url) as own:
        own.ping().wait(timeout=30)


@pytest.fixture
def guarded(database_url: str, tmp_path: Path) -> Iterator[Served]:
    with serve_in_thread(database_url, tmp_path, token=TOKEN) as running:
        yield running


def test_in_token_mode_the_socket_needs_the_token(guarded: Served) -> None:
    for bad in ({}, {"token": "wrong"}):
        with pytest.raises(InvalidStatus) as refused:
            open_socket(socket_url(guarded, **bad))
        assert refused.value.response.status_code == 403  # a closed handshake (gateway.refusal)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=guarded.url, timeout=30, headers=bearer) as client:
        session = new_session(client)
        [started] = until(lambda: stored(client, session))
    with httpx.Client(base_url=guarded.url, timeout=30) as browser:
        assert browser.get("/", params={"token": TOKEN}).status_code == 303
        cookie = f"podium_token={browser.cookies['podium_token']}"
    url = socket_url(guarded, session=session, after=started["id"])
    by_cookie = open_socket(url, additional_headers={"Cookie": cookie})
    by_query = open_socket(f"{url}&token={TOKEN}")
    with by_cookie, by_query:
        note(guarded, session, "for both")
        for ws in (by_cookie, by_query):
            [event] = next_events(ws, 1)
            assert event["payload"]["message"] == "for both"
