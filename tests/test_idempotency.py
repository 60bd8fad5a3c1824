"""Idempotency-Key claims that outlive what broke them: a cut connection, a
killed podium. A retry always learns the answer, or is told why it cannot,
and a command is never given twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.application import Podium
from gateway.idempotency import TAKE_OVER_AFTER_S, idempotent
from gateway.problems import HANDLERS

POOL_NAME = "idempotency test pool"
# A claim's owner as a killed podium left it: unknown here, silent for long.
CRASHED = (
    "UPDATE idempotency_keys SET status = NULL, body = NULL, owner = 'a killed podium', "
    "claimed_at = now() - make_interval(secs => %s) WHERE key = %s"
)


def cut_connections(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (POOL_NAME,),
        )


async def answered(http: httpx.AsyncClient, key: dict[str, str]) -> httpx.Response:
    """Post as a client does: again while the database is unavailable (503)."""
    for _ in range(20):
        response = await http.post("/do", headers=key)
        if response.status_code != 503:
            break
    return response


@pytest.mark.anyio
async def test_an_answer_the_cut_database_did_not_take_is_given_to_the_retry(
    database_url: str,
) -> None:
    """The handler ran, then its connection was cut before the answer was
    stored: every retry used to get 409 "still running"."""
    runs: list[int] = []

    async def handler(request: Request) -> Response:
        runs.append(1)
        cut_connections(database_url)  # the pool's one connection dies under the claim
        return Response(b'{"ran": 1}', status_code=202, media_type="application/json")

    pool = AsyncConnectionPool(
        database_url, min_size=1, max_size=1, kwargs={"application_name": POOL_NAME}, open=False
    )
    await pool.open()
    app = Starlette(
        routes=[Route("/do", idempotent(pool, handler), methods=["POST"])],
        exception_handlers=HANDLERS,
    )
    key = {"Idempotency-Key": "cut-between-claim-and-answer"}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://podium"
        ) as http:
            first = await http.post("/do", headers=key)
            assert first.status_code == 202, first.text  # the command ran: its caller hears so
            again = [await answered(http, key) for _ in range(3)]
    finally:
        await pool.close()
    assert [r.status_code for r in again] == [202, 202, 202], again[-1].text
    assert all(r.json() == {"ran": 1} for r in again)
    assert runs == [1]  # answered again, not executed again
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT status FROM idempotency_keys WHERE key = %s", (key["Idempotency-Key"],)
        ).fetchone()
    assert stored == (202,)  # a retry stored it once the database was back


def agent_commands(conninfo: str, session: str) -> list[str | None]:
    """The Idempotency-Key of every command given in the session, in order."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT payload->>'request' FROM events WHERE session_id = %s "
            "AND event_type = 'AgentCommanded' ORDER BY notification_id",
            (session,),
        ).fetchall()
    return [row[0] for row in rows]


def test_a_command_whose_podium_was_killed_before_answering_is_answered_once(
    client: httpx.Client, database_url: str
) -> None:
    session = client.post("/api/sessions", json={"title": "crash"}).json()["session_id"]
    assert client.post(f"/api/sessions/{session}/agents", json={"name": "bob"}).is_success
    path = f"/api/sessions/{session}/agents/bob/commands"
    key = {"Idempotency-Key": "killed-after-append"}
    first = client.post(path, json={"command": "create a simple hello world app"}, headers=key)
    assert first.status_code == 202, first.text
    with psycopg.connect(database_url) as conn:  # podium died before storing the answer
        conn.execute(CRASHED, (TAKE_OVER_AFTER_S * 10, key["Idempotency-Key"]))

    again = client.post(path, json={"command": "create a simple hello world app"}, headers=key)
    assert again.status_code == 202, again.text  # was 409 "still running", for ever
    assert again.json() == first.json()
    assert agent_commands(database_url, session) == ["killed-after-append"]  # given once

    # Killed between the claim and the append: the retry gives the command, once.
    other = {"Idempotency-Key": "killed-before-append"}
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO idempotency_keys (key, request) VALUES (%s, %s)",
            (other["Idempotency-Key"], f"POST {path}"),
        )
        conn.execute(CRASHED, (TAKE_OVER_AFTER_S * 10, other["Idempotency-Key"]))
    given = client.post(path, json={"command": "create a simple hello world app"}, headers=other)
    assert given.status_code == 202, given.text
    assert given.json() != first.json()  # a task of its own
    repeated = client.post(path, json={"command": "x"}, headers=other)
    assert repeated.json() == given.json()
    assert agent_commands(database_url, session) == [
        "killed-after-append",
        "killed-before-append",
    ]


def test_a_claim_held_elsewhere_is_still_running_then_cut_short(
    client: httpx.Client, database_url: str
) -> None:
    """A command that does not record its key (a new session) is not given
    again after a crash: the retry is told its outcome is unknown."""
    key = "session-claimed-elsewhere"
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO idempotency_keys (key, request, owner) VALUES (%s, %s, 'another podium')",
            (key, "POST /api/sessions"),
        )
    running = client.post("/api/sessions", json={}, headers={"Idempotency-Key": key})
    assert running.status_code == 409 and "still running" in running.json()["detail"]
    with psycopg.connect(database_url) as conn:
        conn.execute(CRASHED, (TAKE_OVER_AFTER_S * 10, key))
    cut = client.post("/api/sessions", json={}, headers={"Idempotency-Key": key})
    assert cut.status_code == 409 and "cut short" in cut.json()["detail"], cut.text
    assert client.get("/api/sessions").json()["sessions"] == []  # not created by the retry


def test_one_key_given_from_two_places_at_once_is_one_command(app: Podium) -> None:
    """A take-over while the first owner still runs after all: the agent's
    stream lets one append win, and the other finds the key in the log."""
    session = app.start_session()
    app.create_agent(session.id, "bob")
    both = Barrier(2)

    def give() -> str:
        both.wait()
        return app.command_agent(session.id, "bob", "build it", "user", request="the-key")

    with ThreadPoolExecutor(2) as pool:
        tasks = list(pool.map(lambda _: give(), range(2)))
    assert tasks[0] == tasks[1]
    agent = app.find_agent(session.id, "bob")
    assert [w.task for w in agent.waiting] == [tasks[0]]
    assert agent.requests == {"the-key": tasks[0]}
