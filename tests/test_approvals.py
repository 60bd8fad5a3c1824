"""The approval queue end to end: a tool Claude Code asks about becomes a
request in the log, pending in the API until a person decides; the decision
reaches the runtime by the log. The real SDK and CLI against the model
double, real PostgreSQL, a real HTTP server. Nothing is mocked."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

import httpx
import psycopg
import pytest

from domain.agent import Agent
from domain.application import Podium
from domain.approval import Approval
from gateway.system import System, SystemConfig
from projections.rebuild import rebuild
from projections.runner import ProjectionRunner
from runtime.runtime import APPROVAL_CUT_REASON
from tests.gateway_server import Served, serve_in_thread
from tests.test_sandbox import demo_config, without_sandbox_programs

T = TypeVar("T")
TIMEOUT = 90.0
# The double's hello world writes hello.py, then lists the directory with Bash.
# Without Claude Code's sandbox, podium asks about every Bash command: the
# listing asks (writing inside the agent's directory does not).
TASK = "create a simple hello world app"


@pytest.fixture
def unsandboxed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", without_sandbox_programs(tmp_path))


@pytest.fixture
def served(database_url: str, tmp_path: Path, unsandboxed: None) -> Iterator[Served]:
    """podium served over HTTP, where Bash asks."""
    with serve_in_thread(database_url, tmp_path) as running:
        yield running


def eventually(check: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if (found := check()) is not None:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def query(conninfo: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(sql, params).fetchall()


def asking_agent(app: Podium, cwd: Path, name: str = "sam") -> UUID:
    """A session whose agent ``name`` is given a task that needs a tool it must ask for."""
    session = app.start_session("approvals", str(cwd))
    app.create_agent(session.id, name)
    app.command_agent(session.id, name, TASK, "user")
    return session.id


def bash_request(app: Podium, agent: Agent, tool_use_id: str) -> Approval:
    """Record ``agent``'s request to run ``ls`` with Bash, as the runtime would."""
    request = Approval.request(
        agent_id=agent.id,
        session_id=agent.session_id,
        agent=agent.name,
        task=None,
        tool="Bash",
        tool_use_id=tool_use_id,
        tool_input={"command": "ls"},
    )
    return app.request_approval(request)


def pending(client: httpx.Client, session_id: UUID) -> dict[str, Any]:
    def one() -> dict[str, Any] | None:
        answer = client.get("/api/approvals", params={"status": "pending", "session": session_id})
        assert answer.status_code == 200, answer.text
        found = answer.json()["approvals"]
        return found[0] if found else None

    return eventually(one, "a pending approval request")


def agent_status(conninfo: str, session_id: UUID) -> str:
    ((status,),) = query(conninfo, "SELECT status FROM agents WHERE session_id = %s", session_id)
    return str(status)


def ran_bash(conninfo: str) -> list[tuple[Any, ...]]:
    """What the agent's Bash did: its output and whether it failed."""
    return query(
        conninfo,
        "SELECT payload->'output', (payload->>'is_error')::boolean FROM events "
        "WHERE event_type = 'ToolUseCompleted' AND payload->>'tool' = 'Bash'",
    )


def turn_done(conninfo: str, session_id: UUID) -> bool | None:
    found = query(conninfo, "SELECT turns FROM agents WHERE session_id = %s", session_id)
    return True if found and found[0][0] >= 1 else None


def test_an_allowed_tool_runs_and_its_output_is_recorded(
    served: Served, client: httpx.Client
) -> None:
    session_id = asking_agent(served.app, served.cwd)
    request = pending(client, session_id)
    assert request["tool"] == "Bash" and request["agent"] == "sam"
    assert request["input"]["command"] == "ls" and request["rule"] == "Bash"  # podium asks
    assert eventually(
        lambda: agent_status(served.conninfo, session_id) == "awaiting approval" or None,
        "the agent awaiting approval",
    )
    assert not ran_bash(served.conninfo)  # nothing ran before the decision

    url, allow = f"/api/approvals/{request['id']}/decision", {"decision": "allow", "scope": "once"}
    key = {"Idempotency-Key": f"allow-{request['id']}"}
    answer = client.post(url, json=allow, headers=key)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "granted" and answer.json()["scope"] == "once"
    retried = client.post(url, json=allow, headers=key)
    assert (retried.status_code, retried.json()) == (200, answer.json())  # answered again

    eventually(lambda: turn_done(served.conninfo, session_id), "the turn's end")
    ((output, is_error),) = ran_bash(served.conninfo)
    assert output["stdout"] == "hello.py" and not is_error
    ((latency,),) = query(
        served.conninfo,
        "SELECT max(recorded_at) FILTER (WHERE event_type = 'ToolUseCompleted') "
        "- max(recorded_at) FILTER (WHERE event_type = 'ApprovalGranted') FROM events",
    )
    print(f"decision to the tool's output, as recorded: {latency.total_seconds() * 1000:.0f} ms")
    decided = client.get("/api/approvals", params={"status": "decided"}).json()["approvals"]
    assert [(d["id"], d["status"], d["decided_by"]) for d in decided] == [
        (request["id"], "granted", "user")
    ]
    assert client.get("/api/approvals", params={"status": "pending"}).json()["approvals"] == []
    assert agent_status(served.conninfo, session_id) == "idle"


def test_other_agents_carry_on_while_one_waits(served: Served, client: httpx.Client) -> None:
    session_id = asking_agent(served.app, served.cwd)
    pending(client, session_id)
    served.app.create_agent(session_id, "bob")
    served.app.command_agent(session_id, "bob", "a slow report", "user")  # no tool to ask for
    statuses = "SELECT name, status, turns FROM agents WHERE session_id = %s ORDER BY name"
    eventually(
        lambda: query(served.conninfo, statuses, session_id)[0][2] == 1 or None, "bob's turn"
    )
    assert query(served.conninfo, statuses, session_id) == [
        ("bob", "idle", 1),
        ("sam", "awaiting approval", 0),
    ]


def test_a_denied_agent_gets_the_message_and_goes_on(served: Served, client: httpx.Client) -> None:
    session_id = asking_agent(served.app, served.cwd)
    request = pending(client, session_id)
    message = "no files today: say hello in your answer instead"
    answer = client.post(
        f"/api/approvals/{request['id']}/decision",
        json={"decision": "deny", "message": message},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "denied" and answer.json()["message"] == message
    eventually(lambda: turn_done(served.conninfo, session_id), "the turn's end")
    assert ran_bash(served.conninfo) == [(message, True)]  # the tool use ended there
    assert agent_status(served.conninfo, session_id) == "idle"  # it went on, and finished
    # The agent was told: the double repeats the tool's result in its last words.
    ((said,),) = query(
        served.conninfo,
        "SELECT payload->>'text' FROM events WHERE event_type = 'AgentTextEmitted' "
        "ORDER BY notification_id DESC LIMIT 1",
    )
    assert message in said


def test_two_decisions_at_once_one_wins(served: Served, client: httpx.Client) -> None:
    session_id = asking_agent(served.app, served.cwd)
    request = pending(client, session_id)
    url = f"{served.url}/api/approvals/{request['id']}/decision"
    bodies = [{"decision": "allow"}, {"decision": "deny", "message": "no"}] * 2

    def decide(body: dict[str, str]) -> int:
        with httpx.Client(timeout=30) as own:
            return own.post(url, json=body).status_code

    with concurrent.futures.ThreadPoolExecutor(len(bodies)) as pool:
        statuses = sorted(pool.map(decide, bodies))
    assert statuses == [200, 409, 409, 409]
    eventually(lambda: turn_done(served.conninfo, session_id), "the turn's end")
    decisions = query(
        served.conninfo,
        "SELECT count(*) FROM events WHERE event_type IN ('ApprovalGranted', 'ApprovalDenied')",
    )
    assert decisions == [(1,)]
    again = client.post(url, json={"decision": "allow"})
    assert again.status_code == 409 and "already" in again.json()["detail"]


def test_unknown_ids_and_malformed_decisions_are_refused(
    served: Served, client: httpx.Client
) -> None:
    unknown = client.post(f"/api/approvals/{uuid4()}/decision", json={"decision": "allow"})
    assert unknown.status_code == 404, unknown.text
    not_an_id = client.post("/api/approvals/nope/decision", json={"decision": "allow"})
    assert not_an_id.status_code == 404
    some_id = uuid4()
    for body in (
        {"decision": "maybe"},
        {"decision": "allow", "scope": "forever"},
        {"decision": "allow", "by": "me"},
        {},
    ):
        answer = client.post(f"/api/approvals/{some_id}/decision", json=body)
        assert answer.status_code == 422, (body, answer.text)
    assert client.get("/api/approvals", params={"status": "all"}).status_code == 422
    assert client.get("/api/approvals", params={"session": "x"}).status_code == 422
    assert client.get("/api/approvals").json() == {"approvals": []}


def _config(database_url: str, tmp_path: Path, **settings: Any) -> SystemConfig:
    return dataclasses.replace(demo_config(database_url, tmp_path), **settings)


async def _until(conninfo: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        found = await asyncio.to_thread(query, conninfo, sql, *params)
        if found and found[0][0]:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for: {sql}")


@pytest.mark.anyio
async def test_a_request_nobody_decides_on_expires(
    database_url: str, tmp_path: Path, unsandboxed: None
) -> None:
    async with System(_config(database_url, tmp_path, approval_timeout=2.0)) as system:
        session_id = await asyncio.to_thread(asking_agent, system.app, system.config.cwd)
        await _until(system.conninfo, "SELECT count(*) FROM agents WHERE turns = 1")
        ((status, message),) = await asyncio.to_thread(
            query, system.conninfo, "SELECT status, message FROM approvals"
        )
        assert status == "expired" and "nobody decided within 2 seconds" in message
        assert agent_status(system.conninfo, session_id) == "idle"
        ((output, is_error),) = ran_bash(system.conninfo)
        assert is_error and "was not approved: nobody decided" in output


def expiries(conninfo: str) -> list[tuple[Any, ...]]:
    return query(
        conninfo,
        "SELECT payload->>'reason' FROM events WHERE event_type = 'ApprovalExpired' "
        "ORDER BY notification_id",
    )


@pytest.mark.anyio
async def test_stopping_while_pending_expires_the_request_and_nothing_hangs(
    database_url: str, tmp_path: Path, unsandboxed: None
) -> None:
    config = _config(database_url, tmp_path)
    async with System(config) as system:
        session_id = await asyncio.to_thread(asking_agent, system.app, config.cwd)
        await _until(system.conninfo, "SELECT count(*) FROM approvals WHERE status = 'pending'")
    # The agent's turn was interrupted, and its request with it (nobody could act on it).
    reasons = await asyncio.to_thread(expiries, system.conninfo)
    assert reasons == [("the agent's turn was interrupted: podium is shutting down",)]
    async with System(config) as system:  # started again: nothing is left pending
        await _until(system.conninfo, "SELECT count(*) FROM agents WHERE status = 'interrupted'")
        assert await asyncio.to_thread(expiries, system.conninfo) == reasons
        assert agent_status(system.conninfo, session_id) == "interrupted"


@pytest.mark.anyio
async def test_on_start_up_a_request_a_crash_left_pending_expires_with_the_reason(
    database_url: str, tmp_path: Path
) -> None:
    """What a podium killed mid-wait leaves: a request in the log nobody waits for."""
    config = _config(database_url, tmp_path)
    async with System(config) as system:
        session = await asyncio.to_thread(system.app.start_session, "crash", str(config.cwd))
        agent = await asyncio.to_thread(system.app.create_agent, session.id, "sam")
        await asyncio.to_thread(bash_request, system.app, agent, "toolu_left")
        await _until(system.conninfo, "SELECT count(*) FROM approvals WHERE status = 'pending'")
    async with System(config) as system:  # the next start-up
        ((message,),) = await _until(
            system.conninfo, "SELECT message FROM approvals WHERE status = 'expired'"
        )
    assert message == APPROVAL_CUT_REASON
    assert await asyncio.to_thread(expiries, database_url) == [(APPROVAL_CUT_REASON,)]


@pytest.mark.anyio
async def test_interrupting_a_waiting_agent_expires_its_request(
    database_url: str, tmp_path: Path, unsandboxed: None
) -> None:
    async with System(_config(database_url, tmp_path)) as system:
        session_id = await asyncio.to_thread(asking_agent, system.app, system.config.cwd)
        await _until(
            system.conninfo, "SELECT count(*) FROM agents WHERE status = 'awaiting approval'"
        )
        await asyncio.to_thread(system.app.interrupt_agent, session_id, "sam", "user")
        await _until(system.conninfo, "SELECT count(*) FROM approvals WHERE status = 'expired'")
        await _until(system.conninfo, "SELECT count(*) FROM agents WHERE turns = 1")
        assert await asyncio.to_thread(expiries, system.conninfo) == [
            ("the agent's turn was interrupted: interrupted by the user",)
        ]
        assert agent_status(system.conninfo, session_id) == "interrupted"


def test_the_read_model_is_the_same_folded_live_and_rebuilt(app: Podium, database_url: str) -> None:
    """Requests and decisions in every state, folded by the live runner in small
    batches (rows loaded back from the table), then rebuilt from the whole log
    (a grant beyond one use adds a rule to its agent or session: they exist)."""
    session_id = app.start_session("approvals", ".").id
    agent_id = app.create_agent(session_id, "sam").id
    made = [
        app.request_approval(
            Approval.request(
                agent_id=agent_id,
                session_id=session_id,
                agent="sam",
                task="t",
                tool="Bash",
                tool_use_id=f"toolu_{n}",
                tool_input={"command": f"echo {n}", "nested": {"n": [n]}},
            )
        )
        for n in range(5)
    ]
    with psycopg.connect(database_url, autocommit=True) as conn:
        ProjectionRunner(database_url, batch_size=2).catch_up(conn)
    app.decide_approval(made[0].id, True, "agent", "", "user")
    app.decide_approval(made[1].id, False, "once", "not that", "user")
    app.expire_approval(made[2].id, "nobody decided")
    app.decide_approval(made[3].id, True, "session", "", "someone")
    with psycopg.connect(database_url, autocommit=True) as conn:
        ProjectionRunner(database_url, batch_size=2).catch_up(conn)
    live = query(database_url, "SELECT * FROM approvals ORDER BY id")
    assert sorted(row[8] for row in live) == ["denied", "expired", "granted", "granted", "pending"]
    assert {row[6]["nested"]["n"][0] for row in live} == set(range(5))
    rebuild(database_url, ["approvals"])
    assert query(database_url, "SELECT * FROM approvals ORDER BY id") == live
