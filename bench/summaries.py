"""The summarizer against the model double: does it keep up with a team at work?

Two phases on a scratch database, the summarizer as `podium up` runs it
(summarizer/consumer.py, its default batching and rate limit) and the model
double in this process answering its calls:

1. steady: ``--agents`` agents of one session each finish a turn every
   ``--turn-s`` seconds (thinking, text, a Write with its file change and
   result, the turn's end: four events to summarize) for ``--seconds``;
   prints the lag of each summary (its event's time to the summary's, both
   from the log) at p50/p99 and the model calls per 1,000 events;
2. capacity: a backlog of ``--backlog`` turns written at once, then timed
   until every event has its summary, with no rate limit: the event rate
   podium's side of the summarizer sustains. Its ratio to the steady phase's
   offered rate is the headroom.

    .venv/bin/python bench/summaries.py
    .venv/bin/python bench/summaries.py --agents 40 --turn-s 5 --seconds 60

Last line: {"bench":"summaries","events_per_s":…,"lag_p99_s":…,"calls_per_1000":…}
(goal: keeps up with 40 agents working, ≤ 40 calls per 1,000 events).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import threading
import time
from uuid import UUID

import psycopg
from _database import add_database_argument, percentile, print_result, rounded, scratch_database

from domain.agent import Agent
from domain.application import Podium
from domain.events import Usage
from eventlog.postgres import open_podium
from runtime.model_double import ModelDouble, api_env
from summarizer.api import ApiSettings
from summarizer.consumer import SummarizerSettings, summarizing

SUMMARIZED = (
    "('AgentTextEmitted', 'ToolUseCompleted', 'FileChanged', 'TurnCompleted', 'AgentFailed')"
)
LEFT = (
    "SELECT count(*) FROM events AS e WHERE e.stream_type = 'agent' "
    f"AND e.event_type IN {SUMMARIZED} AND NOT EXISTS (SELECT FROM events AS s "
    "WHERE s.event_type = 'EventSummarized' "
    "AND (s.payload->>'notification_id')::bigint = e.notification_id)"
)
LAGS = (
    "SELECT extract(epoch FROM s.recorded_at - e.recorded_at) FROM events AS s "
    "JOIN events AS e ON e.notification_id = (s.payload->>'notification_id')::bigint "
    "WHERE s.event_type = 'EventSummarized' AND s.session_id = %s"
)
CALLS = (
    "SELECT count(*), coalesce(sum((payload->>'events')::int), 0) FROM events "
    "WHERE event_type = 'SummarizerCalled' AND session_id = %s"
)
PER_TURN = 4  # events to summarize in one turn of ``work``


def work(app: Podium, agent: Agent, n: int) -> Agent:
    """One turn of an agent, saved at once as the runtime saves a turn."""
    agent.command(f"task {n}")
    agent.start_turn()
    agent.emit_thinking("thinking about it")
    agent.emit_text(f"I will write f{n}.py with a greeting")
    agent.request_tool_use(f"tu{n}", "Write", {"file_path": f"f{n}.py", "content": "print(1)"})
    agent.record_file_change(f"f{n}.py", "created", "+print(1)", tool="Write", tool_use_id=f"tu{n}")
    agent.complete_tool_use(f"tu{n}", "Write", f"File created successfully at: f{n}.py")
    agent.complete_turn(
        Usage(input_tokens=900, output_tokens=90),
        cost_usd=0.004,
        duration_ms=3000,
        num_turns=2,
        claude_session_id=f"c-{agent.id}",
    )
    app.save(agent)
    return agent


def team(app: Podium, agents: int) -> tuple[UUID, list[Agent]]:
    session = app.start_session("bench", "/work")
    return session.id, [app.create_agent(session.id, f"agent{i}") for i in range(agents)]


def steady(app: Podium, agents: int, turn_s: float, seconds: float) -> tuple[UUID, int]:
    """Agents finishing turns at their pace, spread evenly; how many turns."""
    session_id, members = team(app, agents)
    gap = turn_s / agents
    start, n = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        work(app, members[n % agents], n)
        n += 1
        time.sleep(max(0.0, start + n * gap - time.monotonic()))
    return session_id, n


async def wait_until_summarized(conninfo: str, timeout: float) -> float:
    started = time.monotonic()
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        while True:
            row = await (await conn.execute(LEFT)).fetchone()
            if row == (0,):
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise SystemExit(f"the summarizer did not catch up within {timeout:.0f} s")
            await asyncio.sleep(0.1)


async def run(args: argparse.Namespace, conninfo: str, double: ModelDouble) -> dict[str, float]:
    app = open_podium(conninfo)
    api = ApiSettings.from_env(api_env(double), proxies_from_env=False)
    try:
        settings = SummarizerSettings()
        async with summarizing(app, conninfo, settings, api):
            session_id, turns = await asyncio.to_thread(
                steady, app, args.agents, args.turn_s, args.seconds
            )
            await wait_until_summarized(conninfo, 120)
        with psycopg.connect(conninfo) as conn:
            lags = [float(lag) for (lag,) in conn.execute(LAGS, (session_id,))]
            calls, summarized = conn.execute(CALLS, (session_id,)).fetchone() or (0, 0)
        offered = turns * PER_TURN / args.seconds

        unlimited = dataclasses.replace(settings, calls_per_minute=1_000_000)
        _, members = team(app, args.agents)
        for n in range(args.backlog):  # written before the summarizer starts
            work(app, members[n % args.agents], n)
        async with summarizing(app, conninfo, unlimited, api):
            took = await wait_until_summarized(conninfo, 600)
        capacity = args.backlog * PER_TURN / took
    finally:
        app.close()
    print(
        f"steady:   {args.agents} agents, a turn each every {args.turn_s:g} s: "
        f"{offered:.1f} events/s to summarize for {args.seconds:g} s"
    )
    print(
        f"          lag p50 {percentile(lags, 50):.2f} s, p99 {percentile(lags, 99):.2f} s; "
        f"{calls} calls for {summarized} events ({1000 * calls / max(1, summarized):.1f} per 1,000)"
    )
    print(
        f"capacity: {args.backlog * PER_TURN:,} waiting events summarized in {took:.1f} s: "
        f"{capacity:,.0f} events/s ({capacity / offered:.1f}x the steady rate)"
    )
    return {
        "events_per_s": rounded(capacity, 1),
        "offered_events_per_s": rounded(offered, 1),
        "ratio_to_offered": rounded(capacity / offered, 2),
        "lag_p50_s": rounded(percentile(lags, 50), 2),
        "lag_p99_s": rounded(percentile(lags, 99), 2),
        "calls_per_1000": rounded(1000 * calls / max(1, summarized), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_argument(parser)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument(
        "--turn-s", type=float, default=5.0, help="seconds between an agent's turns"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="of steady work")
    parser.add_argument("--backlog", type=int, default=1_000, help="turns waiting at once")
    args = parser.parse_args()
    with scratch_database(args.database_url) as conninfo, ModelDouble() as double:
        result = asyncio.run(run(args, conninfo, double))
    print_result({"bench": "summaries", **result})


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
