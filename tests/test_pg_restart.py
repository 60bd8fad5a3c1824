"""PostgreSQL restarted under a running podium: every request after it answers.

A server of the test's own (tests/own_postgres.py) is restarted, fast (every
session ended) and immediate (a crash), while podium keeps pools of
connections to it. A pool that hands out a connection without checking it
answers the first requests after the restart with 500s (AdminShutdown).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from projections.schema import migrate
from tests.gateway_server import serve_in_thread, until
from tests.own_postgres import OwnPostgres, ShutdownMode, own_postgres

# Enough requests per endpoint to take every connection a pool keeps (the
# largest pool holds 8) after the restart.
ROUNDS = 12


@pytest.fixture
def server() -> Iterator[OwnPostgres]:
    with own_postgres() as running:
        yield running


def reads(session_id: str) -> list[str]:
    """GETs that between them use every pool a gateway reads with."""
    return [
        "/api/sessions",
        f"/api/sessions/{session_id}",
        f"/api/sessions/{session_id}/agents",
        f"/api/sessions/{session_id}/events",
        f"/api/sessions/{session_id}/chat",
        f"/api/sessions/{session_id}/costs",
    ]


def status(http: httpx.Client, method: str, path: str, body: object = None) -> int | str:
    """The answer's status, or what went wrong with the HTTP connection itself."""
    try:
        return http.request(method, path, json=body).status_code
    except httpx.TransportError as error:
        return type(error).__name__


def every_pool_busy(http: httpx.Client, session_id: str) -> None:
    """Requests enough to leave connections in every pool, then a write."""
    for _ in range(ROUNDS):
        for path in reads(session_id):
            assert http.get(path).status_code == 200, path
    message = http.post(f"/api/sessions/{session_id}/messages", json={"text": "hello"})
    assert message.status_code == 202, message.text


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_every_request_after_a_restart_answers(
    server: OwnPostgres, tmp_path: Path, mode: ShutdownMode
) -> None:
    url = server.create_database("podium")
    migrate(url)
    podium = tmp_path / "podium"
    podium.mkdir()
    with serve_in_thread(url, podium) as served, httpx.Client(base_url=served.url) as http:
        created = http.post("/api/sessions", json={"title": "restart", "cwd": str(served.cwd)})
        assert created.status_code == 201, created.text
        session_id = created.json()["session_id"]
        every_pool_busy(http, session_id)

        server.restart(mode)

        answers = [status(http, "GET", path) for _ in range(ROUNDS) for path in reads(session_id)]
        messages = f"/api/sessions/{session_id}/messages"
        answers.append(status(http, "POST", messages, {"text": "again"}))
        assert set(answers) <= {200, 202}, answers
        # And the log kept flowing: both messages reached the read models.
        until(lambda: len(http.get(f"/api/sessions/{session_id}/chat").json()["items"]) >= 2)


def test_a_request_during_an_outage_is_a_503_problem(server: OwnPostgres, tmp_path: Path) -> None:
    url = server.create_database("podium")
    migrate(url)
    podium = tmp_path / "podium"
    podium.mkdir()
    with (
        serve_in_thread(url, podium) as served,
        httpx.Client(base_url=served.url, timeout=120) as http,
    ):
        created = http.post("/api/sessions", json={"title": "outage", "cwd": str(served.cwd)})
        session_id = created.json()["session_id"]
        every_pool_busy(http, session_id)

        server.stop("fast")
        try:
            # At once: each waits for its pool's timeout (up to 30 s) to give up.
            with ThreadPoolExecutor(len(reads(session_id))) as clients:
                answers = list(clients.map(http.get, reads(session_id)))
        finally:
            server.start()

        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["detail"] == "the database is unavailable; retry in a moment"
            assert answer.headers["retry-after"] == "1"
        assert {status(http, "GET", path) for path in reads(session_id)} == {200}
