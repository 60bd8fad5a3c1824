"""One agent, one turn at a time: commands to an agent wait in order, each gets
a turn (and a task) of its own; an interrupt ends the current turn only; a
delete drops the waiting commands and says which; a restart runs the ones a
crash left waiting. The real SDK and CLI against the model double
(tests/scenarios/shell.toml), real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest

from gateway.system import System
from runtime.tools import ManagementTools
from tests.test_runtime import _nothing, rows, until
from tests.test_sandbox import agent, shell_config

pytestmark = pytest.mark.anyio

WORDS = ("two", "three", "four", "five")


@pytest.fixture
async def system(database_url: str, tmp_path: Path) -> AsyncIterator[System]:
    async with System(shell_config(database_url, tmp_path)) as running:
        yield running


async def command(system: System, session_id: UUID, text: str) -> str:
    return await asyncio.to_thread(system.app.command_agent, session_id, "sam", text, "user")


async def slow_then_four(system: System, session_id: UUID) -> list[str]:
    """A long first command and four short ones sent in a row; their tasks."""
    tasks = [await command(system, session_id, "slowly write the report")]
    tasks += [await command(system, session_id, f"say: {word}") for word in WORDS]
    return tasks


async def turns(system: System, count: int) -> list[str]:
    """The tasks of the first ``count`` turns to complete, in order."""
    found = await until(
        system,
        "SELECT array_agg(payload->>'task' ORDER BY notification_id) FROM events "
        "WHERE event_type = 'TurnCompleted' HAVING count(*) >= %s",
        count,
    )
    return list(found[0][0])


async def replies(system: System, tasks: list[str]) -> list[str]:
    found = await rows(
        system,
        "SELECT payload->>'text' FROM events WHERE event_type = 'AgentTextEmitted' "
        "AND payload->>'task' = ANY(%s) ORDER BY notification_id",
        tasks,
    )
    return [text for (text,) in found]


async def test_five_commands_in_a_row_are_five_turns_in_order(system: System) -> None:
    session_id = await agent(system)
    tasks = await slow_then_four(system, session_id)
    assert len(set(tasks)) == 5
    # While the first works, the agent shows how many wait.
    await until(
        system,
        "SELECT count(*) FROM agents WHERE name = 'sam' AND status = 'working' AND queued = 4",
    )
    tools = ManagementTools(system.app, session_id, system.runtime.reads, system.config.cwd)
    status = await tools.check_agent_status({"agent_name": "sam"})
    assert status.startswith("sam: working, 4 commands waiting")  # what the orchestrator sees
    assert await turns(system, 5) == tasks
    assert await replies(system, tasks[1:]) == list(WORDS)  # each ran its own command
    starts = await rows(
        system,
        "SELECT payload->>'task' FROM events WHERE event_type = 'AgentStatusChanged' "
        "AND (payload->>'started')::boolean ORDER BY notification_id",
    )
    assert [task for (task,) in starts] == tasks
    await until(system, "SELECT count(*) FROM agents WHERE status = 'idle' AND queued = 0")


async def test_an_interrupt_ends_the_current_turn_and_the_waiting_commands_run(
    system: System,
) -> None:
    session_id = await agent(system)
    tasks = await slow_then_four(system, session_id)
    await until(system, "SELECT count(*) FROM agents WHERE status = 'working' AND queued = 4")
    await until(  # Claude Code has the first command: its turn is under way
        system,
        "SELECT count(*) FROM events WHERE event_type = 'HookFired' AND payload->>'task' = %s",
        tasks[0],
    )
    await asyncio.to_thread(system.app.interrupt_agent, session_id, "sam", "user")
    assert await turns(system, 5) == tasks
    interrupted = await rows(
        system, "SELECT payload->>'task' FROM events WHERE event_type = 'AgentInterrupted'"
    )
    assert interrupted == [(tasks[0],)]  # the current turn only
    assert await replies(system, tasks[1:]) == list(WORDS)


async def test_a_delete_drops_the_waiting_commands_and_says_which(system: System) -> None:
    session_id = await agent(system)
    tasks = await slow_then_four(system, session_id)
    await until(system, "SELECT count(*) FROM agents WHERE status = 'working' AND queued = 4")
    await asyncio.to_thread(system.app.delete_agent, session_id, "sam", "deleted by the user")
    (dropped,) = await until(
        system,
        "SELECT payload->'dropped' FROM events WHERE event_type = 'AgentStatusChanged' "
        "AND jsonb_array_length(payload->'dropped') > 0",
    )
    assert dropped[0] == tasks[1:]
    await until(system, "SELECT count(*) FROM agents WHERE status = 'deleted' AND queued = 0")
    while system.runtime.workers:  # the runtime closed the agent: no turn can start after
        await asyncio.sleep(0.1)
    ran = await rows(
        system,
        "SELECT count(*) FROM events WHERE payload->>'task' = ANY(%s) "
        "AND event_type IN ('TurnCompleted', 'AgentTextEmitted')",
        tasks[1:],
    )
    assert ran == [(0,)]


async def test_a_spent_budget_drops_the_waiting_commands(system: System) -> None:
    session = await asyncio.to_thread(system.app.start_session, "budget", str(system.config.cwd))
    await asyncio.to_thread(system.app.create_agent, session.id, "sam", budget_usd=0.01)
    tasks = [await command(system, session.id, f"say: {word}") for word in WORDS]
    (dropped,) = await until(
        system,
        "SELECT payload->'dropped' FROM events WHERE event_type = 'AgentStatusChanged' "
        "AND jsonb_array_length(payload->'dropped') > 0",
    )
    assert dropped[0] == tasks[1:]  # the first turn spent the budget; the rest never ran
    assert await turns(system, 1) == tasks[:1]
    await until(system, "SELECT count(*) FROM agents WHERE queued = 0 AND status <> 'queued'")


async def test_commands_a_crash_left_waiting_run_after_the_restart(
    database_url: str, tmp_path: Path
) -> None:
    async with System(shell_config(database_url, tmp_path)) as system:
        session_id = await agent(system)
        tasks = await slow_then_four(system, session_id)
        await until(system, "SELECT count(*) FROM agents WHERE status = 'working' AND queued = 4")
        # A crash: the process vanishes without its orderly shutdown.
        for worker in system.runtime.workers.values():
            worker.interrupt = _nothing  # type: ignore[method-assign]
    os.chmod(tmp_path, 0o755)
    async with System(shell_config(database_url, tmp_path)) as system:
        assert await turns(system, 4) == tasks[1:]
        assert await replies(system, tasks[1:]) == list(WORDS)
        reasons = await rows(
            system, "SELECT payload->>'reason' FROM events WHERE event_type = 'AgentInterrupted'"
        )
        assert reasons == [("podium restarted while the agent was working",)]
