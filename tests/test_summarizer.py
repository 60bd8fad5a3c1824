"""AI summaries, end to end: the real SDK and CLI run agents against the model
double, the summarizer reads the log from real PostgreSQL and asks the
double (as it would the API) for one summary per event, in batches."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.system import System
from summarizer.consumer import SummarizerSettings
from tests.test_runtime import config, rows, say, start, until

pytestmark = pytest.mark.anyio

SUMMARIZED = "('AgentTextEmitted', 'ToolUseCompleted', 'FileChanged', 'TurnCompleted', 'AgentFailed')"
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





async def test_every_agent_event_of_a_demo_session_is_summarized_once(system: System) -> None:
    session_id = await start(system)
    await say(system, session_id, "Create an agent called alice for Python development")
    await say(system, session_id, "Tell alice to create a simple hello world app")
    await until(system, "SELECT count(*) FROM agents WHERE name = 'alice' AND turns = 1")
    await until(system, f"SELECT ({UNSUMMARIZED}) = 0")
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
    # A summary is the model's (the double's: the agent's name and what it did).
    (said,) = await rows(
        system,
        "SELECT payload->>'summary' FROM events WHERE event_type = 'EventSummarized' LIMIT 1",
    )
    assert said[0].startswith("alice ")
