"""Ingest benchmark: how fast concurrent agents append events, against raw COPY.

K writers each own one agent and append small bursts of that agent's events
(one save per burst, as a turn of a real agent produces them) through
podium's real write path: domain methods, the msgspec mapper, group commit,
podium's recorder (eventsourcing's, inserting each group with one call of a
database function). By default the writers are what the runtime's agents
are: asyncio tasks on one event loop, each writing through its agent's
``Journal`` (``--threads``: threads calling ``app.save``, as the gateway's
request handlers do). Then, in the same database, the same rows (byte for
byte: read back from the store) are COPYed into a table shaped like the
store, as the ceiling PostgreSQL offers on this machine.

    .venv/bin/python bench/ingest.py [--writers 16] [--events 200000] [--per-save 9]
                                     [--threads] [--copy-runs 3]

The last line of output is one JSON object. The writers, the committer and
the server share the machine's cores; the "cpu:" line says how much of them
the Python process and the machine used while the writers ran (a Python
process near 1.0 cores is bound by the GIL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from _copy_ceiling import INDEXED, PLAIN, Row, copy_seconds
from _database import (
    add_database_argument,
    describe_server,
    percentile,
    print_result,
    rounded,
    scratch_database,
    setting,
)
from _machine import CpuUse, Stopwatch

from domain.agent import Agent
from domain.application import Podium
from domain.events import Usage
from eventlog.group_commit import GroupCommitRecorder
from eventlog.postgres import EVENTS_TABLE, open_podium
from gateway.loop import run as run_event_loop
from runtime.journal import Journal

TEXT = (
    "I'll start by reading the existing module to see how the parser handles "
    "continuation lines, then add a test for the failing case before changing it. "
) * 2
THINKING = (
    "The failure only happens when a header is folded across lines; the tokenizer "
    "drops the leading whitespace, so the second half is parsed as a new field. "
) * 2
DIFF = "".join(
    f"-    old_line_{i} = parse(value)\n+    new_line_{i} = parse(value, fold=True)\n"
    for i in range(6)
)


def _command(agent: Agent, n: int) -> None:
    # The step leads, so each command's task slug (its first words) is new: the
    # same slug again and again would make each task's unique suffix a longer search.
    agent.command(f"Step {n}: fix the header folding bug")


def _started(agent: Agent, n: int) -> None:
    agent.start_turn()  # as the runtime's worker does: the command waits no longer


def _thinking(agent: Agent, n: int) -> None:
    agent.emit_thinking(THINKING)


def _text(agent: Agent, n: int) -> None:
    agent.emit_text(TEXT)


def _tool_requested(agent: Agent, n: int) -> None:
    agent.request_tool_use(
        f"toolu_{n:08d}",
        "Edit",
        {
            "file_path": "src/parser.py",
            "old_string": "parse(value)",
            "new_string": "parse(value, fold=True)",
        },
    )


def _file_changed(agent: Agent, n: int) -> None:
    agent.record_file_change("src/parser.py", "modified", DIFF, tool="Edit", tool_use_id="toolu_1")


def _tool_completed(agent: Agent, n: int) -> None:
    agent.complete_tool_use(f"toolu_{n:08d}", "Edit", "The file src/parser.py has been updated.")


def _turn_completed(agent: Agent, n: int) -> None:
    usage = Usage(
        input_tokens=3_200 + n % 997, output_tokens=410 + n % 89, cache_read_input_tokens=18_000
    )
    agent.complete_turn(
        usage,
        cost_usd=0.0123,
        duration_ms=5_400,
        num_turns=3,
        claude_session_id="claude-session-0001",
    )


# One agent turn, in order; writers cycle through it, --per-save events per save.
TURN: tuple[Callable[[Agent, int], None], ...] = (
    _command,
    _started,
    _thinking,
    _text,
    _tool_requested,
    _file_changed,
    _tool_completed,
    _text,
    _turn_completed,
)


def turn_steps() -> str:
    """The turn's events, as the workload line names them: 'command, started, ...'."""
    return ", ".join(step.__name__.strip("_").replace("_", " ") for step in TURN)


@dataclass
class CommitStats:
    """What the group committer did: transactions, events, time inside the recorder."""

    groups: int = 0
    events: int = 0
    seconds: float = 0.0

    def instrument(self, app: Podium) -> None:
        """Count the committer thread's calls into the store's recorder (bench only)."""
        assert isinstance(app.recorder, GroupCommitRecorder)
        inner = app.recorder.recorder
        original = inner.insert_events

        def counted(stored_events: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(stored_events, **kwargs)
            finally:
                self.groups += 1
                self.events += len(stored_events)
                self.seconds += time.perf_counter() - started

        inner.insert_events = counted  # type: ignore[method-assign]


def make_turn(saves_so_far: int, per_save: int) -> Callable[[Agent], None]:
    """The change one save records: the next ``per_save`` events of the turn."""

    def change(agent: Agent) -> None:
        for step in range(saves_so_far * per_save, (saves_so_far + 1) * per_save):
            TURN[step % len(TURN)](agent, step)

    return change


def write(
    app: Podium,
    agent: Agent,
    *,
    saves: int,
    per_save: int,
    start: threading.Barrier,
    latencies: list[float],
) -> None:
    """A writer thread: ``saves`` bursts of ``per_save`` events on its own agent."""
    start.wait()
    for n in range(saves):
        make_turn(n, per_save)(agent)
        began = time.perf_counter()
        app.save(agent)
        latencies.append(time.perf_counter() - began)


async def write_async(
    journal: Journal[Agent], saves: int, per_save: int, latencies: list[float]
) -> None:
    """A writer task, as an agent of the runtime writes: through its journal."""
    for n in range(saves):
        change = make_turn(n, per_save)
        began = time.perf_counter()
        await journal.write(change)
        latencies.append(time.perf_counter() - began)


def run_threads(
    app: Podium, agents: list[Agent], saves: int, per_save: int
) -> tuple[Stopwatch, list[list[float]]]:
    start = threading.Barrier(len(agents) + 1)
    per_writer: list[list[float]] = [[] for _ in agents]
    threads = [
        threading.Thread(
            target=write,
            args=(app, agent),
            kwargs={"saves": saves, "per_save": per_save, "start": start, "latencies": lat},
        )
        for agent, lat in zip(agents, per_writer, strict=True)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    with Stopwatch() as watch:
        for thread in threads:
            thread.join()
    return watch, per_writer


def run_tasks(
    app: Podium, agents: list[Agent], saves: int, per_save: int
) -> tuple[Stopwatch, list[list[float]]]:
    per_writer: list[list[float]] = [[] for _ in agents]

    async def main() -> Stopwatch:
        journals = [Journal(app, agent) for agent in agents]
        with Stopwatch() as watch:
            await asyncio.gather(
                *(
                    write_async(journal, saves, per_save, lat)
                    for journal, lat in zip(journals, per_writer, strict=True)
                )
            )
        return watch

    return run_event_loop(main()), per_writer


def run_writers(
    conninfo: str, writers: int, saves: int, per_save: int, threads: bool
) -> tuple[float, list[float], CommitStats, CpuUse]:
    """Run the writers together; returns wall seconds, save latencies, commit and CPU stats."""
    app = open_podium(conninfo)
    try:
        session = app.start_session("ingest benchmark", "/work/bench")
        agents = [app.create_agent(session.id, f"writer{i}") for i in range(writers)]
        stats = CommitStats()
        stats.instrument(app)
        run = run_threads if threads else run_tasks
        watch, per_writer = run(app, agents, saves, per_save)
    finally:
        app.close()
    return watch.seconds, [s for lat in per_writer for s in lat], stats, watch.cpu


def written_rows(conninfo: str) -> list[Row]:
    """The writers' events as stored (every agent event after its first), in log order."""
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
            "WHERE originator_version > 1 ORDER BY notification_id"
        ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_argument(parser)
    parser.add_argument("--writers", type=int, default=16, help="concurrent writers")
    parser.add_argument(
        "--threads",
        action="store_true",
        help="writers are threads calling app.save (default: asyncio tasks writing through "
        "their agents' journals, as the runtime does)",
    )
    parser.add_argument("--events", type=int, default=200_000, help="events to append in all")
    parser.add_argument(
        "--per-save",
        type=int,
        default=len(TURN),
        help=f"events per app.save call (default {len(TURN)}: one agent turn)",
    )
    parser.add_argument(
        "--copy-runs",
        type=int,
        default=3,
        help="COPY the rows this many times and keep the fastest (default 3)",
    )
    args = parser.parse_args()
    saves = max(1, args.events // (args.writers * args.per_save))
    events = saves * args.writers * args.per_save

    with scratch_database(args.database_url) as conninfo:
        print(describe_server(conninfo, embedded=not args.database_url))
        print(
            f"workload: {args.writers} writers ({'threads' if args.threads else 'asyncio tasks'}), "
            f"each its own agent; {saves:,} saves each of "
            f"{args.per_save} events (a turn: {turn_steps()}), {events:,} events in all"
        )
        seconds, latencies, stats, cpu = run_writers(
            conninfo, args.writers, saves, args.per_save, args.threads
        )
        sync = setting(conninfo, "synchronous_commit")
        rows = written_rows(conninfo)
        plain_seconds = copy_seconds(conninfo, PLAIN, rows, args.copy_runs)
        indexed_seconds = copy_seconds(conninfo, INDEXED, rows, args.copy_runs)

    assert len(rows) == events, (len(rows), events)
    state_bytes = sum(len(row[3]) for row in rows) / len(rows)
    events_per_s = events / seconds
    copy_per_s = events / plain_seconds
    indexed_per_s = events / indexed_seconds
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    busy = stats.seconds / seconds
    print(
        f"podium:   {events:,} events in {seconds:.2f}s = {events_per_s:,.0f} events/s "
        f"({len(latencies):,} saves, mean state {state_bytes:,.0f} bytes)"
    )
    print(f"per save: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {max(latencies) * 1000:.2f} ms")
    print(
        f"commits:  {stats.groups:,} transactions, {stats.events / max(stats.groups, 1):,.1f} "
        f"events each; committer inside the recorder {busy:.0%} of the time"
    )
    print(
        f"cpu:      python process {cpu.process_cores:.2f} cores; machine "
        f"{cpu.machine_busy:.0%} busy of {os.cpu_count()} cores (other work included)"
    )
    print(
        f"raw COPY: the same {events:,} rows (binary COPY, one transaction, best of "
        f"{args.copy_runs}) into a plain table in {plain_seconds:.2f}s = {copy_per_s:,.0f} rows/s;"
    )
    print(
        f"          with the store's primary key and notification_id index "
        f"in {indexed_seconds:.2f}s = {indexed_per_s:,.0f} rows/s"
    )
    print(
        f"ratio:    {events_per_s / copy_per_s:.3f} of raw COPY (target >= 0.2); "
        f"{events_per_s / indexed_per_s:.3f} of COPY with the store's indexes (target >= 0.3); "
        f"synchronous_commit={sync}"
    )
    print_result(
        {
            "bench": "ingest",
            "events_per_s": round(events_per_s),
            "copy_per_s": round(copy_per_s),
            "ratio": rounded(events_per_s / copy_per_s),
            "p99_ms": rounded(p99),
            "p50_ms": rounded(p50),
            "writers": args.writers,
            "writer_kind": "threads" if args.threads else "tasks",
            "per_save": args.per_save,
            "events": events,
            "copy_indexed_per_s": round(indexed_per_s),
            "ratio_to_indexed": rounded(events_per_s / indexed_per_s),
            "synchronous_commit": sync,
            "python_cores": rounded(cpu.process_cores, 2),
            "machine_busy": rounded(cpu.machine_busy, 2),
        }
    )


if __name__ == "__main__":
    main()
