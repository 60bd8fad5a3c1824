"""AI summaries, end to end: the real SDK and CLI run agents against the model
double, the summarizer reads the log from real PostgreSQL and asks the
double (as it would the API) for one summary per event, in batches."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from gateway.system import System
from summarizer.consumer import SummarizerSettings
from tests.test_cli import PODIUM
from tests.test_projections import history
from tests.test_runtime import config, rows, say, start, until

pytestmark = pytest.mark.anyio

SUMMARIZED = (
    "('AgentTextEmitted', 'ToolUseCompleted', 'FileChanged', 'TurnCompleted', 'AgentFailed')"
)
UNSUMMARIZED = (
    "SELECT count(*) FROM events AS e WHERE e.stream_type = 'agent' "
    f"AND e.event_type IN {SUMMARIZED} AND NOT EXISTS ("
    "SELECT FROM events AS s WHERE s.event_type = 'EventSummarized' "
    "AND (s.payload->>'notification_id')::bigint = e.notification_id)"
)
SUMMARIES = (
    "SELECT (payload->>'notification_id')::bigint, count(*) FROM events "
    "WHERE event_type = 'EventSummarized' GROUP BY 1"
)


@pytest.fixture
async def system(database_url: str, tmp_path: Path) -> AsyncIterator[System]:
    quick = SummarizerSettings(wait_s=0.2)
    async with System(dataclasses.replace(config(database_url, tmp_path), summarizer=quick)) as up:
        yield up


async def quick_start_summarized(system: System) -> UUID:
    """The quick start (alice writes hello world), waited for until all of it is summarized."""
    session_id = await start(system)
    await say(system, session_id, "Create an agent called alice for Python development")
    await say(system, session_id, "Tell alice to create a simple hello world app")
    await until(system, "SELECT count(*) FROM agents WHERE name = 'alice' AND turns = 1")
    await until(system, f"SELECT ({UNSUMMARIZED}) = 0")
    return session_id


async def test_every_agent_event_of_a_demo_session_is_summarized_once(system: System) -> None:
    session_id = await quick_start_summarized(system)
    kinds = await rows(
        system,
        "SELECT DISTINCT e.event_type FROM events AS e JOIN events AS s "
        "ON (s.payload->>'notification_id')::bigint = e.notification_id "
        "WHERE s.event_type = 'EventSummarized'",
    )
    assert {"AgentTextEmitted", "ToolUseCompleted", "TurnCompleted"} <= {k for (k,) in kinds}
    counts = await rows(system, SUMMARIES)
    assert counts and all(n == 1 for _, n in counts)
    calls = await rows(
        system,
        "SELECT count(*), sum((payload->>'events')::int) FROM events "
        "WHERE event_type = 'SummarizerCalled' AND session_id = %s",
        session_id,
    )
    assert calls[0][0] >= 1 and calls[0][1] >= len(counts)
    # Its spend is its own: priced from the table, apart from the agents'.
    (spend,) = await until(
        system,
        "SELECT sum(turns) = %s, sum(priced_usd), sum(input_tokens) FROM costs "
        "WHERE session_id = %s AND actor_kind = 'summarizer'",
        calls[0][0],
        session_id,
    )
    assert spend[1] > 0 and spend[2] > 0
    # A summary is the model's (the double's: the agent's name and what it did).
    (said,) = await rows(
        system,
        "SELECT payload->>'summary' FROM events WHERE event_type = 'EventSummarized' LIMIT 1",
    )
    assert said[0].startswith("alice ")
    # The agent's row has the summary of its latest summarized event.
    (latest,) = await until(
        system,
        "SELECT a.summary = s.payload->>'summary' FROM agents AS a JOIN events AS s "
        "ON s.event_type = 'EventSummarized' AND (s.payload->>'agent_id')::uuid = a.agent_id "
        "WHERE a.name = 'alice' ORDER BY (s.payload->>'notification_id')::bigint DESC LIMIT 1",
    )
    assert latest[0]


async def test_a_failed_summary_call_is_recorded_retried_and_nothing_is_left(
    system: System,
) -> None:
    assert system.double is not None
    system.double.fail_next(529, times=2, of="summaries")  # the agents' calls are not touched
    await quick_start_summarized(system)
    failures = await rows(
        system,
        "SELECT payload->>'attempt', payload->>'error' FROM events "
        "WHERE event_type = 'SummarizerFailed' ORDER BY notification_id",
    )
    assert [attempt for attempt, _ in failures] == ["1", "2"]
    assert "529" in failures[0][1]
    assert all(n == 1 for _, n in await rows(system, SUMMARIES))


async def test_a_restarted_summarizer_goes_on_where_it_stopped(
    database_url: str, tmp_path: Path
) -> None:
    settings = dataclasses.replace(
        config(database_url, tmp_path), summarizer=SummarizerSettings(wait_s=0.2)
    )
    async with System(settings) as first:
        session_id = await start(first)
        await asyncio.to_thread(first.app.create_agent, session_id, "alice")
        await asyncio.to_thread(first.app.command_agent, session_id, "alice", "say hello", "user")
        await until(first, "SELECT count(*) FROM agents WHERE name = 'alice' AND turns = 1")
        await until(first, f"SELECT ({UNSUMMARIZED}) = 0")
    async with System(settings) as second:
        await asyncio.to_thread(second.app.command_agent, session_id, "alice", "again", "user")
        await until(second, "SELECT count(*) FROM agents WHERE name = 'alice' AND turns = 2")
        await until(second, f"SELECT ({UNSUMMARIZED}) = 0")
        assert all(n == 1 for _, n in await rows(second, SUMMARIES))
        (position,) = await rows(
            second,
            "SELECT notification_id FROM projection_tracking WHERE projection = 'summarizer'",
        )
        assert position[0] > 0


def test_podium_summarize_catches_up_a_log_alone_and_stops_on_sigterm(database_url: str) -> None:
    history(database_url, sessions=2, agents=2, turns=3)  # agents' events, none summarized
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("ANTHROPIC_API_KEY", None)
    alone = subprocess.Popen(
        [*PODIUM, "summarize", "--demo"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while conn.execute(UNSUMMARIZED).fetchone() != (0,):
                assert time.monotonic() < deadline, "the summarizer did not catch up"
                assert alone.poll() is None, alone.stderr.read() if alone.stderr else ""
                time.sleep(0.2)
            (summaries,) = conn.execute(
                "SELECT count(*) FROM events WHERE event_type = 'EventSummarized'"
            ).fetchone()
            assert summaries > 0
    finally:
        alone.send_signal(signal.SIGTERM)
        _, said = alone.communicate(timeout=30)
    assert alone.returncode == 0, said
    assert "summarizing with claude-haiku-4-5 at the model double" in said
    assert "Traceback" not in said


def test_podium_summarize_without_a_key_says_what_to_do() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    done = subprocess.run(
        [*PODIUM, "summarize"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "podium summarize: error: no API key: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN), "
        "or use --demo for the built-in model double"
    ]


async def test_summaries_off_makes_none(database_url: str, tmp_path: Path) -> None:
    off = dataclasses.replace(config(database_url, tmp_path), summarizer=None)
    async with System(off) as system:
        session_id = await start(system)
        await asyncio.to_thread(system.app.create_agent, session_id, "alice")
        await asyncio.to_thread(system.app.command_agent, session_id, "alice", "say hi", "user")
        await until(system, "SELECT count(*) FROM agents WHERE name = 'alice' AND turns = 1")
        await asyncio.sleep(1.0)
        assert await rows(system, SUMMARIES) == []
        assert system.double is not None
        assert system.double.summary_requests == []
        assert system.double.message_requests  # the agents' went on
