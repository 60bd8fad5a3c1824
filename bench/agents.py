"""Many agents at once: N worker agents each run a scripted task together.

Runs the real runtime (real claude-agent-sdk, real bundled Claude Code CLI,
one process per agent) against the model double, on a scratch database. The
double runs in a process of its own (``python -m runtime.model_double``) and
podium in real mode points the CLIs at it through their environment, as a
user's environment would point them at the API: this process's CPU is then
podium's alone (runtime, recording, projections). Prints wall time, events
recorded per second, the peak memory of the podium process and of the CLI
processes per agent, podium's own CPU time per recorded event, and that CPU
as a share of the Claude Code processes' (``podium_cpu_share``: the physical
limit here is the CLIs' own work). Last line: one JSON object.

    .venv/bin/python bench/agents.py --agents 10
    .venv/bin/python bench/agents.py --agents 50
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
from _database import add_database_argument, print_result, rounded, scratch_system

from eventlog.postgres import EVENTS_TABLE
from gateway.loop import run as run_event_loop
from gateway.system import System, SystemConfig
from runtime.model_double import cli_env

TASK = "create a simple hello world app"


class ProcessWatch:
    """Samples this process and its Claude Code children: peak RSS, and the CPU
    each CLI has used (the last sample of each: a CLI's time is gone with it)."""

    def __init__(self, interval: float = 0.1) -> None:
        self.me = psutil.Process()
        self.interval = interval
        self.peak_self = 0
        self.peak_cli = 0
        self.peak_cli_processes = 0
        self.cli_cpu: dict[int, float] = {}  # pid -> CPU seconds, as last seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        try:
            self.peak_self = max(self.peak_self, self.me.memory_info().rss)
            clis = [p for p in self.me.children(recursive=True) if _is_cli(p)]
        except psutil.Error:
            return
        total = sum(_rss(p) for p in clis)
        if total > self.peak_cli:
            self.peak_cli, self.peak_cli_processes = total, len(clis)
        for cli in clis:
            with contextlib.suppress(psutil.Error):
                self.cli_cpu[cli.pid] = cpu_seconds(cli)

    def __enter__(self) -> ProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()  # the CLIs' last figures, before they are closed


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


@contextlib.contextmanager
def model_double_process(home: Path) -> Iterator[tuple[dict[str, str], psutil.Process]]:
    """The model double in a process of its own; the CLIs' environment for it."""
    double = subprocess.Popen(
        [sys.executable, "-m", "runtime.model_double"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},  # its address, as soon as it is said
    )
    try:
        assert double.stdout is not None
        said = double.stdout.readline()  # "model double (demo.toml) at http://..."
        base_url = said.rsplit(" ", 1)[-1].strip()
        if not base_url.startswith("http"):
            raise RuntimeError(f"the model double said {said!r}")
        yield cli_env(base_url, home), psutil.Process(double.pid)
    finally:
        double.terminate()
        double.wait()


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in os.environ (what the CLIs inherit in real mode) while in the block."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


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
    # Real mode: the CLIs take the double's address from the environment.
    config = SystemConfig(
        cwd=work,
        database_url=conninfo,
        data_dir=work.parent / "data",
        demo=False,
        max_agents=agents,
    )
    with model_double_process(work.parent / "demo-home") as (env, double):
        with environment(env):
            figures = await run_agents(config, conninfo, agents)
        figures["double_cpu_s"] = cpu_seconds(double)
    return figures


async def run_agents(config: SystemConfig, conninfo: str, agents: int) -> dict[str, float]:
    async with System(config) as system:
        app = system.app
        session = await asyncio.to_thread(app.start_session, "bench", str(config.cwd))
        for i in range(agents):
            await asyncio.to_thread(app.create_agent, session.id, f"agent{i}", cwd=f"agent{i}")
        before = count(conninfo, f"SELECT count(*) FROM {EVENTS_TABLE}")
        cpu = cpu_seconds(psutil.Process())
        started = time.perf_counter()
        with ProcessWatch() as watch:
            for i in range(agents):
                await asyncio.to_thread(app.command_agent, session.id, f"agent{i}", TASK, "user")
            while count(conninfo, "SELECT count(*) FROM agents WHERE turns >= 1") < agents:
                if time.perf_counter() - started > 600:
                    raise TimeoutError("the agents did not finish within 10 minutes")
                await asyncio.sleep(0.1)
        wall = time.perf_counter() - started
        cpu_used = cpu_seconds(psutil.Process()) - cpu
        events = count(conninfo, f"SELECT count(*) FROM {EVENTS_TABLE}") - before
        failed = count(conninfo, "SELECT count(*) FROM agents WHERE status = 'failed'")
    return {
        "wall_s": wall,
        "events": events,
        "failed": failed,
        "cpu_s": cpu_used,
        "cli_cpu_s": sum(watch.cli_cpu.values()),
        "peak_podium_mb": watch.peak_self / 2**20,
        "peak_cli_mb": watch.peak_cli / 2**20,
        "peak_cli_processes": watch.peak_cli_processes,
    }


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
    share = figures["cpu_s"] / figures["cli_cpu_s"] if figures["cli_cpu_s"] else float("nan")
    fit = int(24 * 1024 / per_agent) if per_agent else 0
    lines = [
        f"agents:                  {args.agents} (each: {TASK!r}, one Claude Code process)",
        f"wall time:               {figures['wall_s']:.1f} s",
        f"events recorded:         {figures['events']:,.0f} ({rate:,.0f}/s)",
        f"failed agents:           {figures['failed']:.0f}",
        f"peak RSS, podium:        {figures['peak_podium_mb']:,.0f} MB",
        f"peak RSS, CLI processes: {figures['peak_cli_mb']:,.0f} MB over {clis:.0f} processes "
        f"({per_agent:,.0f} MB each)",
        f"podium CPU per event:    {overhead:.2f} ms (runtime, recording, projections)",
        f"podium CPU / CLIs' CPU:  {figures['cpu_s']:.1f} s / {figures['cli_cpu_s']:.1f} s = "
        f"{share:.3f} (the model double, in its own process: {figures['double_cpu_s']:.1f} s)",
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
            "podium_cpu_s": rounded(figures["cpu_s"], 2),
            "cli_cpu_s": rounded(figures["cli_cpu_s"], 2),
            "podium_cpu_share": rounded(share),
            "double_cpu_s": rounded(figures["double_cpu_s"], 2),
        }
    )


if __name__ == "__main__":
    main()
