"""Replay: open a 100,000-event session over the API and page through all of it.

Builds one session whose agents produced ``--events`` events, starts podium
(gateway and all) on it, and times what the replay view does: the first page
of the session's log, then every page to the end. Last line: one JSON object.

    .venv/bin/python bench/replay.py --events 100000
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import httpx
from _database import add_database_argument, print_result, rounded, scratch_system, settle

from domain.events import Usage
from eventlog.postgres import open_podium
from gateway.loop import run as run_event_loop
from gateway.serve import ServeOptions, running_gateway
from gateway.system import SystemConfig

PAGE = 1_000


def build_session(conninfo: str, events: int, cwd: Path) -> str:
    """One session: a conversation and a few agents doing many turns of work."""
    app = open_podium(conninfo)
    try:
        session = app.start_session("replay", str(cwd))
        session.send_user_message("create agents and build the thing")
        app.save(session)
        agents = [app.create_agent(session.id, f"agent{i}") for i in range(5)]
        written = 7
        turn = 0
        while written < events:
            for agent in agents:
                agent.command(f"task {turn}")
                for step in range(40):
                    agent.emit_text(f"step {step} of task {turn}")
                    agent.request_tool_use(f"t{turn}-{step}", "Bash", {"command": "ls"})
                    agent.complete_tool_use(f"t{turn}-{step}", "Bash", "hello.py")
                agent.complete_turn(
                    Usage(input_tokens=900, output_tokens=120),
                    cost_usd=0.004,
                    duration_ms=900,
                    num_turns=40,
                    claude_session_id=f"c{turn}",
                )
                written += 122
            app.save(*agents)
            turn += 1
        return str(session.id)
    finally:
        app.close()


async def run(conninfo: str, events: int, tmp: Path) -> dict[str, float]:
    cwd = tmp / "work"
    cwd.mkdir(parents=True)
    session = await asyncio.to_thread(build_session, conninfo, events, cwd)
    await asyncio.to_thread(settle, conninfo)
    config = SystemConfig(cwd=cwd, database_url=conninfo, data_dir=tmp / "data", demo=True)
    options = ServeOptions("127.0.0.1", 0, None, None, "memory://", tmp / "logs")
    async with (
        running_gateway(config, options) as running,
        httpx.AsyncClient(base_url=running.url, timeout=60) as http,
    ):
        await running.system.runtime.reads.caught_up(timeout=300)
        url = f"/api/sessions/{session}/events"
        started = time.perf_counter()
        first = (await http.get(url, params={"limit": PAGE})).json()
        first_page = time.perf_counter() - started
        seen, after = len(first["events"]), first["next_after"]
        while after is not None:
            page = (await http.get(url, params={"after": after, "limit": PAGE})).json()
            seen += len(page["events"])
            after = page["next_after"]
        all_pages = time.perf_counter() - started
    return {"events": seen, "first_page_ms": first_page * 1000, "all_s": all_pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    add_database_argument(parser)
    args = parser.parse_args()
    with scratch_system("replay", args.database_url) as (conninfo, tmp):
        figures = run_event_loop(run(conninfo, args.events, tmp))
    print(f"session:     {figures['events']:,} events, paged {PAGE} at a time over HTTP")
    print(f"first page:  {figures['first_page_ms']:.1f} ms")
    rate = figures["events"] / figures["all_s"]
    print(f"every page:  {figures['all_s']:.2f} s ({rate:,.0f} events/s)")
    print_result(
        {
            "bench": "replay",
            "events": int(figures["events"]),
            "first_page_ms": rounded(figures["first_page_ms"], 2),
            "all_s": rounded(figures["all_s"], 3),
        }
    )


if __name__ == "__main__":
    main()
