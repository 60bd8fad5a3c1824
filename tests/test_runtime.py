"""The agent runtime end to end: the real Claude Agent SDK, the real bundled
Claude Code CLI, the model double for the Anthropic API, real PostgreSQL.
Nothing is mocked."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from domain.errors import BudgetExhausted
from gateway.system import System, SystemConfig
from runtime.tools import ManagementTools

pytestmark = pytest.mark.anyio

# claude-sonnet-4-5, USD per token: the prices the CLI charges.
SONNET_PRICES = {
    "input_tokens": 3e-6,
    "output_tokens": 15e-6,
    "cache_creation_input_tokens": 3.75e-6,
    "cache_read_input_tokens": 0.30e-6,
}


def sonnet_cost(usage: dict[str, int]) -> float:
    return sum(SONNET_PRICES[kind] * usage[kind] for kind in SONNET_PRICES)


def config(database_url: str, tmp_path: Path, name: str = "data") -> SystemConfig:
    os.chmod(tmp_path, 0o755)
    return SystemConfig(
        cwd=tmp_path / "work", database_url=database_url, data_dir=tmp_path / name, demo=True
    )


@pytest.fixture
async def system(database_url: str, tmp_path: Path) -> AsyncIterator[System]:
    async with System(config(database_url, tmp_path)) as running:
        yield running


async def rows(system: System, query: str, *params: object) -> list[tuple]:
    def run() -> list[tuple]:
        with psycopg.connect(system.conninfo) as conn:
            return conn.execute(query, params).fetchall()

    return await asyncio.to_thread(run)


async def until(system: System, query: str, *params: object, timeout: float = 90) -> list[tuple]:
    """Poll until the query returns a row whose first column is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await rows(system, query, *params)
        if found and found[0][0]:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for: {query} {params}")


async def say(system: System, session_id: UUID, text: str) -> None:
    """Send a message and wait for the orchestrator's turn to end."""
    before = await rows(
        system,
        "SELECT count(*) FROM events WHERE stream_id = %s AND event_type = 'TurnCompleted'",
        session_id,
    )
    await asyncio.to_thread(system.app.send_user_message, session_id, text)
    await until(
        system,
        "SELECT count(*) > %s FROM events WHERE stream_id = %s AND event_type = 'TurnCompleted'",
        before[0][0],
        session_id,
    )


async def agent_turns(system: System, name: str) -> int:
    found = await rows(
        system,
        "SELECT count(*) FROM events e JOIN agents a ON a.agent_id = e.stream_id "
        "WHERE a.name = %s AND e.event_type = 'TurnCompleted'",
        name,
    )
    return int(found[0][0])


async def start(system: System) -> UUID:
    session = await asyncio.to_thread(system.app.start_session, "test", str(system.config.cwd))
    return session.id


async def test_quick_start_alice_writes_hello_world(system: System) -> None:
    session_id = await start(system)
    await say(system, session_id, "Create an agent called alice for Python development")
    await say(system, session_id, "Tell alice to create a simple hello world app")
    await until(system, "SELECT count(*) FROM agents WHERE name = 'alice' AND turns = 1")

    (agent,) = await rows(
        system, "SELECT name, status, model, cost_usd FROM agents WHERE session_id = %s", session_id
    )
    assert agent[:3] == ("alice", "idle", "claude-sonnet-4-5") and agent[3] > 0
    hello = system.config.cwd / "hello.py"
    assert hello.exists() and "Hello, World!" in hello.read_text()

    log = await rows(
        system,
        "SELECT event_type, stream_type, payload FROM events WHERE session_id = %s "
        "ORDER BY notification_id",
        session_id,
    )
    kinds = [f"{stream}:{kind}" for kind, stream, _ in log]

    def at(kind: str, start: int = 0) -> int:
        return kinds.index(kind, start)

    order = [
        at("session:UserMessageSent"),
        at("session:OrchestratorToolUsed"),
        at("agent:AgentCreated"),
        at("agent:AgentCommanded"),
        at("agent:ToolUseRequested"),
        at("agent:FileChanged"),
        at("agent:TurnCompleted"),
    ]
    assert order == sorted(order), kinds
    write = next(p for k, s, p in log if k == "ToolUseRequested" and p["tool"] == "Write")
    assert write["input"]["file_path"].endswith("hello.py")
    assert "agent:HookFired" in kinds  # UserPromptSubmit, Stop
    assert any(k == "ToolUseCompleted" and p["tool"] == "Write" for k, _, p in log)
    created = next(p for k, _, p in log if k == "FileChanged")
    assert created["path"] == "hello.py" and '+print("Hello, World!")' in created["diff"]
    turn = next(p for k, s, p in log if s == "agent" and k == "TurnCompleted")
    assert turn["cost_usd"] > 0 and turn["usage"]["input_tokens"] > 0 and turn["task"]

    # report_cost equals the sum of the log's TurnCompleted costs.
    tools = ManagementTools(system.app, session_id, system.runtime.reads, system.config.cwd)
    report = await tools.report_cost({})
    exact = Decimal(re.search(r"exact: ([0-9.]+)", report).group(1))
    (logged,) = await rows(
        system,
        "SELECT sum((payload->>'cost_usd')::numeric) FROM events "
        "WHERE session_id = %s AND event_type = 'TurnCompleted'",
        session_id,
    )
    assert exact == logged[0] > 0
    assert "alice (claude-sonnet-4-5)" in report


async def test_bad_tool_input_is_a_clear_error_in_the_log(system: System) -> None:
    session_id = await start(system)
    await say(system, session_id, "Create an agent called alice")
    await say(system, session_id, "Create an agent called ALICE")
    await say(system, session_id, "Tell bob to do something")
    replies = await rows(
        system,
        "SELECT payload->>'text' FROM events WHERE stream_id = %s "
        "AND event_type = 'OrchestratorReplied' ORDER BY notification_id",
        session_id,
    )
    text = " ".join(r[0] for r in replies)
    assert "already exists" in text and "no agent called 'bob'" in text
    logged = await rows(
        system, "SELECT message FROM system_logs WHERE level = 'warning' ORDER BY notification_id"
    )
    assert any("create_agent failed" in r[0] for r in logged)
    assert any("command_agent failed" in r[0] for r in logged)


async def test_interrupt_during_a_slow_stream_then_work_again(system: System) -> None:
    session_id = await start(system)
    await say(system, session_id, "Create an agent called alice")
    await say(system, session_id, "Tell alice to work slowly on the report")
    await until(
        system,
        "SELECT count(*) FROM events e JOIN agents a ON a.agent_id = e.stream_id "
        "WHERE a.name = 'alice' AND e.event_type = 'AgentThinkingEmitted'",
    )
    started = time.monotonic()
    await say(system, session_id, "Interrupt alice")
    await until(
        system, "SELECT count(*) FROM agents WHERE name = 'alice' AND status = 'interrupted'"
    )
    assert time.monotonic() - started < 20  # the slow stream would take ~25 s
    reasons = await rows(
        system, "SELECT payload->>'reason' FROM events WHERE event_type = 'AgentInterrupted'"
    )
    assert reasons == [("interrupted by the orchestrator",)]

    turns = await agent_turns(system, "alice")
    await say(system, session_id, "Tell alice to create a simple hello world app")
    await until(
        system,
        "SELECT count(*) FROM agents WHERE name = 'alice' AND status = 'idle' AND turns > %s",
        turns,
    )
    assert (system.config.cwd / "hello.py").exists()


async def test_delete_an_agent(system: System) -> None:
    session_id = await start(system)
    await say(system, session_id, "Create an agent called alice")
    await say(system, session_id, "Delete alice")
    await until(system, "SELECT count(*) FROM agents WHERE name = 'alice' AND status = 'deleted'")
    await say(system, session_id, "Tell alice to do more")
    (reply,) = (
        await rows(
            system,
            "SELECT payload->>'text' FROM events WHERE event_type = 'OrchestratorReplied' "
            "ORDER BY notification_id DESC LIMIT 1",
        )
    )[0]
    assert "deleted" in reply
    await say(system, session_id, "Create an agent called alice")  # the name is free again
    await until(system, "SELECT count(*) FROM agents WHERE name = 'alice' AND incarnation = 1")


async def test_the_runtime_follows_the_log_again_after_its_connections_are_cut(
    system: System,
) -> None:
    session_id = await start(system)
    await say(system, session_id, "Create an agent called alice")
    cut = await rows(
        system,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name IN ('podium runtime', 'podium runtime claims') "
        "AND datname = current_database()",
    )
    assert len(cut) == 2  # the connection it listens on, the one it claims on
    await say(system, session_id, "Create an agent called bob")
    await until(system, "SELECT count(*) FROM agents WHERE name = 'bob'")


async def test_one_runtime_acts_on_a_database_and_another_takes_over_when_it_stops(
    database_url: str, tmp_path: Path
) -> None:
    async with System(config(database_url, tmp_path, "first")) as first:
        session_id = await start(first)
        async with System(config(database_url, tmp_path, "second")) as second:
            await say(second, session_id, "Create an agent called alice")
            assert session_id in first.runtime.orchestrators  # the first one answered
            assert not second.runtime.orchestrators and not second.runtime.workers
            answers = await rows(
                first, "SELECT count(*) FROM events WHERE event_type = 'OrchestratorToolUsed'"
            )
            assert answers == [(1,)]  # once, not once per runtime
            await first.runtime.stop()  # the first runtime goes; its process stays
            await say(second, session_id, "Create an agent called bob")
            assert session_id in second.runtime.orchestrators  # the second took over
        names = await rows(first, "SELECT name FROM agents ORDER BY name")
        assert names == [("alice",), ("bob",)]


async def test_two_agents_work_at_once(system: System) -> None:
    session_id = await start(system)
    await say(system, session_id, "Create an agent called alice")
    await say(system, session_id, "Create an agent called bob")
    await say(system, session_id, "Tell alice to work slowly on part one")
    await say(system, session_id, "Tell bob to work slowly on part two")
    await until(system, "SELECT count(*) = 2 FROM agents WHERE turns = 1", timeout=120)
    spans = await rows(
        system,
        "SELECT a.name, min(e.recorded_at) FILTER (WHERE e.event_type = 'AgentThinkingEmitted'), "
        "max(e.recorded_at) FILTER (WHERE e.event_type = 'TurnCompleted') "
        "FROM events e JOIN agents a ON a.agent_id = e.stream_id GROUP BY a.name ORDER BY 1",
    )
    (_, alice_start, alice_end), (_, bob_start, bob_end) = spans
    assert bob_start < alice_end and alice_start < bob_end  # their turns overlapped


async def test_an_api_outage_fails_clearly_and_the_agent_recovers(system: System) -> None:
    session_id = await start(system)
    await say(system, session_id, "Create an agent called alice")
    await say(system, session_id, "Tell alice to survive the outage")
    await until(system, "SELECT count(*) FROM agents WHERE name = 'alice' AND status = 'failed'")
    (error,) = (
        await rows(system, "SELECT payload->>'error' FROM events WHERE event_type = 'AgentFailed'")
    )[0]
    assert "error" in error.lower()
    (turn,) = await rows(
        system,
        "SELECT (payload->>'is_error')::bool FROM events e WHERE e.event_type = 'TurnCompleted' "
        "AND e.stream_type = 'agent'",
    )
    assert turn == (True,)
    await say(system, session_id, "Tell alice to create a simple hello world app")
    await until(system, "SELECT count(*) FROM agents WHERE name = 'alice' AND status = 'idle'")


async def test_a_session_resumes_after_a_restart_from_the_database(
    database_url: str, tmp_path: Path
) -> None:
    async with System(config(database_url, tmp_path, "first")) as first:
        session_id = await start(first)
        await say(first, session_id, "Create an agent called alice")
        await say(first, session_id, "Tell alice to create a simple hello world app")
        await until(first, "SELECT count(*) FROM agents WHERE name = 'alice' AND turns = 1")
        await say(first, session_id, "Tell alice to create a simple hello world app")
        await until(first, "SELECT count(*) FROM agents WHERE name = 'alice' AND turns = 2")
        (claude_session,) = (
            await rows(first, "SELECT claude_session_id FROM agents WHERE name = 'alice'")
        )[0]
    # A new process with an empty HOME: only PostgreSQL remembers the conversation.
    async with System(config(database_url, tmp_path, "second")) as second:
        await say(second, session_id, "Tell alice to create a simple hello world app")
        await until(second, "SELECT count(*) FROM agents WHERE name = 'alice' AND turns = 3")
        worker = [
            r.body
            for r in second.double.message_requests
            if any(t.get("name") == "Write" for t in r.body.get("tools", []))
        ]
        assert worker, "the agent never reached the model"
        # The resumed conversation carries the first turn: both commands are in it.
        assert json.dumps(worker[0]["messages"]).count("create a simple hello world app") >= 2
        turns = await rows(
            second,
            "SELECT payload->>'claude_session_id', (payload->>'cost_usd')::float, payload->'usage' "
            "FROM events WHERE event_type = 'TurnCompleted' AND stream_type = 'agent' "
            "ORDER BY notification_id",
        )
    assert [t[0] for t in turns] == [claude_session] * 3  # one Claude session throughout
    # Each turn records its own cost, not the CLI's running total: within one
    # process (turn 2) and after a store-backed resume in a new one (turn 3),
    # cost = the turn's own usage at the model's prices.
    for _, cost, usage in turns:
        assert cost == pytest.approx(sonnet_cost(usage), rel=1e-9)


async def test_idle_agents_hibernate_and_wake_on_the_next_command(
    database_url: str, tmp_path: Path
) -> None:
    settings = dataclasses.replace(config(database_url, tmp_path), idle_seconds=1.0)
    async with System(settings) as system:
        session_id = await start(system)
        await say(system, session_id, "Create an agent called alice")
        await say(system, session_id, "Tell alice to create a simple hello world app")
        await until(system, "SELECT count(*) FROM agents WHERE status = 'hibernating'")
        (worker,) = system.runtime.workers.values()
        assert worker.client is None  # its Claude Code process is gone
        await say(system, session_id, "Tell alice to create a simple hello world app")
        await until(system, "SELECT count(*) FROM agents WHERE turns = 2")
        sessions = await rows(
            system,
            "SELECT DISTINCT payload->>'claude_session_id' FROM events "
            "WHERE event_type = 'TurnCompleted' AND stream_type = 'agent'",
        )
        assert len(sessions) == 1  # the same Claude session, resumed


async def test_max_agents_queues_the_rest(database_url: str, tmp_path: Path) -> None:
    settings = dataclasses.replace(config(database_url, tmp_path), max_agents=1)
    async with System(settings) as system:
        session_id = await start(system)
        await say(system, session_id, "Create an agent called alice")
        await say(system, session_id, "Create an agent called bob")
        await say(system, session_id, "Tell alice to work slowly on part one")
        await until(
            system, "SELECT count(*) FROM agents WHERE name = 'alice' AND status = 'working'"
        )
        await say(system, session_id, "Tell bob to create a simple hello world app")
        await until(system, "SELECT count(*) FROM agents WHERE name = 'bob' AND status = 'queued'")
        await until(system, "SELECT count(*) = 2 FROM agents WHERE turns = 1", timeout=120)
        ends = await rows(
            system,
            "SELECT a.name FROM events e JOIN agents a ON a.agent_id = e.stream_id "
            "WHERE e.event_type = 'TurnCompleted' ORDER BY e.notification_id",
        )
        assert [r[0] for r in ends] == ["alice", "bob"]  # bob waited for alice's slot


async def test_agents_left_working_by_a_crash_are_recorded_as_interrupted(
    database_url: str, tmp_path: Path
) -> None:
    async with System(config(database_url, tmp_path)) as system:
        session_id = await start(system)
        await say(system, session_id, "Create an agent called alice")
        await say(system, session_id, "Tell alice to work slowly on the report")
        await until(system, "SELECT count(*) FROM agents WHERE status = 'working'")
        # A crash: the process vanishes without its orderly shutdown.
        for worker in system.runtime.workers.values():
            worker.interrupt = _nothing  # type: ignore[method-assign]
    async with System(config(database_url, tmp_path, "after")) as system:
        await until(system, "SELECT count(*) FROM agents WHERE status = 'interrupted'")
        reasons = await rows(
            system, "SELECT payload->>'reason' FROM events WHERE event_type = 'AgentInterrupted'"
        )
        assert reasons == [("podium restarted while the agent was working",)]


async def _nothing(reason: str) -> None:
    return None


async def _answering(system: System, session_id: UUID, text: str) -> None:
    """Send a message and wait until the orchestrator is in the middle of its answer."""
    await asyncio.to_thread(system.app.send_user_message, session_id, text)
    deadline = time.monotonic() + 60
    while not (
        (orchestrator := system.runtime.orchestrators.get(session_id)) and orchestrator.answering
    ):
        assert time.monotonic() < deadline, "the orchestrator never started answering"
        await asyncio.sleep(0.1)


async def test_an_answer_cut_by_a_shutdown_or_a_crash_is_recorded_and_a_message_resumes(
    database_url: str, tmp_path: Path
) -> None:
    async with System(config(database_url, tmp_path)) as system:
        first = await start(system)
        await _answering(system, first, "slowly think about the plan")
    async with System(config(database_url, tmp_path, "again")) as system:
        second = await start(system)
        await _answering(system, second, "slowly think about the plan")
        # A crash: the process vanishes without its orderly shutdown.
        system.runtime.orchestrators[second].interrupt = _nothing  # type: ignore[method-assign]
    async with System(config(database_url, tmp_path, "after")) as system:
        reasons = await until(
            system,
            "SELECT array_agg(payload->>'reason' ORDER BY notification_id) FROM events "
            "WHERE event_type = 'SessionInterrupted' HAVING count(*) = 2",
        )
        assert reasons[0][0] == [
            "podium is shutting down",
            "podium restarted while the orchestrator was answering",
        ]
        await say(system, second, "Create an agent called alice")
        (status,) = await until(system, "SELECT status FROM sessions WHERE session_id = %s", second)
        assert status == ("active",)


async def test_shutdown_interrupts_working_agents_and_records_it(
    database_url: str, tmp_path: Path
) -> None:
    async with System(config(database_url, tmp_path)) as system:
        session_id = await start(system)
        await say(system, session_id, "Create an agent called alice")
        await say(system, session_id, "Tell alice to work slowly on the report")
        await until(system, "SELECT count(*) FROM agents WHERE status = 'working'")
    with psycopg.connect(database_url) as conn:
        reasons = conn.execute(
            "SELECT payload->>'reason' FROM events WHERE event_type = 'AgentInterrupted'"
        ).fetchall()
    assert reasons == [("podium is shutting down",)]


async def test_an_agent_stops_at_its_budget(system: System) -> None:
    session_id = await start(system)
    await asyncio.to_thread(system.app.create_agent, session_id, "alice", budget_usd=0.05)
    await asyncio.to_thread(
        system.app.command_agent, session_id, "alice", "create a simple hello world app", "user"
    )
    await until(system, "SELECT count(*) FROM events WHERE event_type = 'BudgetExceeded'")
    await until(system, "SELECT count(*) FROM agents WHERE status = 'interrupted'")
    (exceeded,) = await rows(
        system, "SELECT payload FROM events WHERE event_type = 'BudgetExceeded'"
    )
    assert exceeded[0]["scope"] == "agent" and exceeded[0]["spent_usd"] >= 0.05
    with pytest.raises(BudgetExhausted, match="budget"):
        await asyncio.to_thread(system.app.command_agent, session_id, "alice", "more", "user")
    # Raised: it takes commands again, and its turn runs under the new limit (a
    # CLI process started under the old one would refuse it at once).
    await asyncio.to_thread(system.app.set_agent_budget, session_id, "alice", 10.0, "user")
    task = await asyncio.to_thread(
        system.app.command_agent, session_id, "alice", "create a simple hello world app", "user"
    )
    ((turn,),) = await until(
        system,
        "SELECT payload FROM events WHERE event_type = 'TurnCompleted' AND payload->>'task' = %s",
        task,
    )
    assert not turn["is_error"] and turn["cost_usd"] > 0
    await until(system, "SELECT count(*) FROM agents WHERE status = 'idle'")


async def test_a_session_stops_commanding_at_its_budget(system: System) -> None:
    session = await asyncio.to_thread(
        system.app.start_session, "budget", str(system.config.cwd), 0.05
    )
    await say(system, session.id, "Create an agent called alice")
    await say(system, session.id, "Tell alice to create a simple hello world app")
    await until(system, "SELECT count(*) FROM agents WHERE turns = 1")
    await say(system, session.id, "Tell alice to create a simple hello world app")
    (reply,) = (
        await rows(
            system,
            "SELECT payload->>'text' FROM events WHERE event_type = 'OrchestratorReplied' "
            "ORDER BY notification_id DESC LIMIT 1",
        )
    )[0]
    assert "budget" in reply


@pytest.mark.parametrize(
    ("workflow", "agents", "deleted"),
    [
        ("/one-shot create a simple hello world app", {"oneshot"}, {"oneshot"}),
        # /scout-and-build's scout asks to read the documentation:
        # tests/test_demo_approval.py runs it end to end, deciding.
        (
            "/plan-build-review create a simple hello world app",
            {"planner", "scout1", "scout2", "builder", "reviewer"},
            {"scout1", "scout2"},
        ),
    ],
)
async def test_shipped_workflows_run_end_to_end(
    system: System, workflow: str, agents: set[str], deleted: set[str]
) -> None:
    session_id = await start(system)
    await say(system, session_id, workflow)
    found = await rows(
        system, "SELECT name, turns, status, template FROM agents WHERE session_id = %s", session_id
    )
    assert {name for name, *_ in found} == agents
    assert all(turns == 1 for _, turns, _, _ in found), found
    assert {name for name, _, status, _ in found if status == "deleted"} == deleted
    assert all(template for *_, template in found)
    assert (system.config.cwd / "hello.py").exists()  # the builder's work
