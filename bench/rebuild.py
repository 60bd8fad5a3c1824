"""Rebuild benchmark: how fast every read model is rebuilt from a large, realistic log.

First it writes a log of ``--events`` genuine podium events (bench/_realistic_log.py:
the real aggregates and mapper, COPYed into the store in log order, the fast
way to a big log; the ingest benchmark measures the normal write path). Then it times
reading and decoding that log with nothing else (the rebuild's own reader,
eventlog.reading through projections.prefetch: the fold's ceiling, each fold
process reads the whole log), and the real ``podium rebuild --all`` on it.

    .venv/bin/python bench/rebuild.py [--events 1000000]

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import time
from pathlib import Path

import psycopg
from _database import (
    add_database_argument,
    describe_server,
    print_result,
    rounded,
    scratch_database,
)
from _realistic_log import build_log

from domain.codec import event_class
from eventlog.postgres import EVENTS_TABLE
from eventlog.reading import head, stream_type
from projections.bulk import paused_gc
from projections.prefetch import LogPrefetch
from projections.read_models import NAMES
from projections.rebuild import rebuild
from projections.runner import DEFAULT_BATCH

ROOT = Path(__file__).resolve().parent.parent
PODIUM = ROOT / ".venv" / "bin" / "podium"


def describe_log(conninfo: str) -> str:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            f"SELECT split_part(topic, ':', 2), count(*), avg(length(state))::int "
            f"FROM {EVENTS_TABLE} GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        streams = conn.execute(
            f"SELECT topic, count(*) FROM {EVENTS_TABLE} "
            "WHERE originator_version = 1 GROUP BY 1 ORDER BY 1"
        ).fetchall()
    mix = ", ".join(f"{name} {count:,} ({size} B)" for name, count, size in rows)
    made = ", ".join(f"{count} {stream_type(event_class(topic))}" for topic, count in streams)
    return f"streams: {made}\nmix: {mix}"


def read_seconds(conninfo: str, runs: int = 2) -> float:
    """Seconds to read and decode the whole log as a rebuild's fold does, folding
    nothing: the best of ``runs`` (the machine may be shared)."""
    with psycopg.connect(conninfo) as conn:
        until = head(conn)
    best = float("inf")
    for _ in range(runs):
        began = time.perf_counter()
        with paused_gc(), LogPrefetch(conninfo, 0, until, DEFAULT_BATCH) as log:
            for _events in log:
                pass
        best = min(best, time.perf_counter() - began)
    return best


def cli_supports_rebuild() -> bool:
    if not PODIUM.exists():
        return False
    shown = subprocess.run(
        [str(PODIUM), "rebuild", "--help"], capture_output=True, text=True, check=False
    )
    return shown.returncode == 0 and "--all" in shown.stdout


def rebuild_with_cli(conninfo: str) -> tuple[float, str]:
    """Run ``podium rebuild --all``; returns wall seconds and what it printed."""
    env = {**os.environ, "DATABASE_URL": conninfo}
    began = time.perf_counter()
    done = subprocess.run(
        [str(PODIUM), "rebuild", "--all"], env=env, stdout=subprocess.PIPE, text=True, check=True
    )
    return time.perf_counter() - began, done.stdout.strip()


def read_model_rows(conninfo: str) -> str:
    with psycopg.connect(conninfo) as conn:
        counts = [(name, conn.execute(f"SELECT count(*) FROM {name}").fetchone()) for name in NAMES]
    return ", ".join(f"{name} {row[0] if row else 0:,}" for name, row in counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_argument(parser)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the log")
    parser.add_argument("--sessions", type=int, default=4, help="sessions in the log")
    parser.add_argument("--agents", type=int, default=12, help="agents per session")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="call projections.rebuild.rebuild() instead of the podium CLI",
    )
    args = parser.parse_args()

    with scratch_database(args.database_url) as conninfo:
        print(describe_server(conninfo, embedded=not args.database_url))
        events, build_seconds = build_log(conninfo, args.events, args.sessions, args.agents)
        print(
            f"built a log of {events:,} events in {build_seconds:.1f}s "
            f"(domain + mapper + COPY, then VACUUM ANALYZE)"
        )
        print(describe_log(conninfo))
        read_s = read_seconds(conninfo)
        load_before = os.getloadavg()[0]
        if not args.in_process and cli_supports_rebuild():
            how = f"{PODIUM.relative_to(ROOT)} rebuild --all (subprocess; time includes "
            how += "its start-up and migrate check)"
            seconds, said = rebuild_with_cli(conninfo)
            print(f"podium said: {said}")
            reported = re.search(r"in ([\d.]+)s", said)
        else:
            how = "projections.rebuild.rebuild() in-process"
            rebuilt = rebuild(conninfo)
            seconds, reported = rebuilt.seconds, None
        load_after = os.getloadavg()[0]
        print(f"read models: {read_model_rows(conninfo)}")

    events_per_s = events / seconds
    read_per_s = events / read_s
    print(
        f"read:     the log read and decoded, nothing folded (eventlog.reading, best of 2): "
        f"{read_s:.2f}s = {read_per_s:,.0f} events/s"
    )
    print(f"rebuild:  {how}")
    print(
        f"          {events:,} events in {seconds:.2f}s = {events_per_s:,.0f} events/s "
        f"(target >= 100,000); {events_per_s / read_per_s:.3f} of reading alone"
    )
    # The machine may be shared: a load above its cores means the run was slowed.
    print(
        f"          load average {load_before:.1f} before, {load_after:.1f} after, on "
        f"{os.cpu_count()} cores"
    )
    result: dict[str, object] = {
        "bench": "rebuild",
        "events": events,
        "events_per_s": round(events_per_s),
        "seconds": round(seconds, 2),
        "read_per_s": round(read_per_s),
        "ratio_to_read": rounded(events_per_s / read_per_s),
        "load_avg": [round(load_before, 1), round(load_after, 1)],
    }
    if reported:
        result["rebuild_only_events_per_s"] = round(events / float(reported.group(1)))
    print_result(result)


if __name__ == "__main__":
    main()
