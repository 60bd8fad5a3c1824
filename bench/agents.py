"""Many agents at once: N worker agents each run a scripted task together.

Runs the real runtime (real claude-agent-sdk, real bundled Claude Code CLI,
one process per agent) against the model double, on a scratch database.
Prints wall time, events recorded per second, the peak memory of the podium
process and of the CLI processes per agent, and podium's own CPU time per
recorded event. Last line: one JSON object.

    .venv/bin/python bench/agents.py --agents 10
    .venv/bin/python bench/agents.py --agents 50
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from pathlib import Path

import psutil
import psycopg
from _database import add_database_argument, print_result, rounded, scratch_system

from gateway.loop import run as run_event_loop
from gateway.system import System, SystemConfig

TASK = "create a simple hello world app"


class MemoryWatch:
    """Samples the RSS of this process and of its Claude Code children; keeps the peaks."""

    def __init__(self, interval: float = 0.1) -> None:
        self.me = psutil.Process()
        self.interval = interval
        self.peak_self = 0
        self.peak_cli = 0
        self.peak_cli_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_self = max(self.peak_self, self.me.memory_info().rss)
                clis = [p for p in self.me.children(recursive=True) if _is_cli(p)]
                total = sum(_rss(p) for p in clis)
                if total > self.peak_cli:
                    self.peak_cli, self.peak_cli_processes = total, len(clis)
            except psutil.Error:
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _is_cli(process: psutil.Process) -> bool:
    try:
        return "claude" in " ".join(process.cmdline()[:2])
    except psutil.Error:
        return False


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.Error:
        return 0


def count(conninfo: str, query: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


async def run(conninfo: str, agents: int, work: Path) -> dict[str, float]:
    config = SystemConfig(
        cwd=work,
        database_url=conninfo,
        data_dir=work.parent / "data",
        demo=True,
        max_agents=agents,
    )
    async with System(config) as system:
        app = system.app
        session = await asyncio.to_thread(app.start_session, "bench", str(work))
        for i in range(agents):
            await asyncio.to_thread(app.create_agent, session.id, f"agent{i}", cwd=f"agent{i}")
        before = count(conninfo, "SELECT count(*) FROM podium_events")
        cpu = system_cpu()
        started = time.perf_counter()
        with MemoryWatch() as memory:
            for i in range(agents):
                await asyncio.to_thread(app.command_agent, session.id, f"agent{i}", TASK, "user")
            while count(conninfo, "SELECT count(*) FROM agents WHERE turns >= 1") < agents:
                if time.perf_counter() - started > 600:
                    raise TimeoutError("the agents did not finish within 10 minutes")
                await asyncio.sleep(0.1)
        wall = time.perf_counter() - started
        cpu_used = system_cpu() - cpu
        events = count(conninfo, "SELECT count(*) FROM podium_events") - before
        failed = count(conninfo, "SELECT count(*) FROM agents WHERE status = 'failed'")
    return {
        "wall_s": wall,
        "events": events,
        "failed": failed,
        "cpu_s": cpu_used,
        "peak_podium_mb": memory.peak_self / 2**20,
        "peak_cli_mb": memory.peak_cli / 2**20,
        "peak_cli_processes": memory.peak_cli_processes,
    }


def system_cpu() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=10, help="agents working at once")
    add_database_argument(parser)
    args = parser.parse_args()
    with scratch_system("agents", args.database_url) as (conninfo, tmp):
        figures = run_event_loop(run(conninfo, args.agents, tmp / "work"))
    per_agent = figures["peak_cli_mb"] / max(figures["peak_cli_processes"], 1)
    rate = figures["events"] / figures["wall_s"]
    clis = figures["peak_cli_processes"]
    overhead = 1000 * figures["cpu_s"] / max(figures["events"], 1)
    fit = int(24 * 1024 / per_agent) if per_agent else 0
    lines = [
        f"agents:                  {args.agents} (each: {TASK!r}, one Claude Code process)",
        f"wall time:               {figures['wall_s']:.1f} s",
        f"events recorded:         {figures['events']:,.0f} ({rate:,.0f}/s)",
        f"failed agents:           {figures['failed']:.0f}",
        f"peak RSS, podium:        {figures['peak_podium_mb']:,.0f} MB",
        f"peak RSS, CLI processes: {figures['peak_cli_mb']:,.0f} MB over {clis:.0f} processes "
        f"({per_agent:,.0f} MB each)",
        f"podium CPU per event:    {overhead:.2f} ms (runtime, recording, projections, double)",
        f"working agents in 24 GiB at this size: about {fit}",
    ]
    print("\n".join(lines))
    print_result(
        {
            "bench": "agents",
            "agents": args.agents,
            "wall_s": rounded(figures["wall_s"], 2),
            "events_per_s": rounded(rate, 1),
            "rss_mb_per_agent": rounded(per_agent, 1),
            "podium_rss_mb": rounded(figures["peak_podium_mb"], 1),
            "overhead_ms_per_event": rounded(overhead, 3),
        }
    )


if __name__ == "__main__":
    main()
