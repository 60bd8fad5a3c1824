"""Fan-out: many live SSE viewers while events are appended at a steady rate.

Starts podium (gateway and all) on a scratch database, opens ``--clients``
Server-Sent Event streams from other processes, appends events at
``--rate`` per second for ``--seconds``, and measures, for every event and
every viewer, the time from the append's commit to the viewer reading it.
Every viewer starts after a known notification id and runs until it has
the last event appended (or gives up), so its stream is checked against the
store: which ids it missed, how many it got twice or out of order.
``--load N`` runs N busy loops beside it. Last line: one JSON object.

    .venv/bin/python bench/fanout.py --clients 100 --rate 1000
    .venv/bin/python bench/fanout.py --clients 1000 --load 2
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import threading
import time
from array import array
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from _database import add_database_argument, percentile, print_result, rounded, scratch_system
from _machine import allow_open_files, cpu_hog, python_loop_seconds
from _sse_viewers import StreamReport, Viewer, check_stream

from eventlog.reading import head
from gateway.loop import run as run_event_loop
from gateway.serve import ServeOptions, running_gateway
from gateway.system import SystemConfig

BATCH_EVERY = 0.01  # append in small groups every 10 ms, as busy agents do
VIEWERS_PER_PROCESS = 500  # a process of raw-socket viewers keeps up with this many
GIVE_UP_AFTER_S = 60.0  # past the last append, a viewer that still lacks events stops

# What a viewer process sends back, per viewer: ids, arrival times, connections, refusal.
Received = tuple["array[int]", "array[int]", int, str | None]


def watch(
    url: str,
    path: str,
    after: int,
    clients: int,
    *,
    last_appended: Synchronized[int],
    out: multiprocessing.Queue[Any],
) -> None:
    """A process of viewers: connect, say so, read until each has ``last_appended``."""
    allow_open_files(clients + 64)
    host, port = url.removeprefix("http://").split(":")
    viewers = [Viewer(host, int(port), path, after) for _ in range(clients)]

    async def main() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(viewer.keep_watching(stop)) for viewer in viewers]
        while not all(viewer.answered for viewer in viewers):
            await asyncio.sleep(0.05)
        out.put("ready")
        while (last := last_appended.value) == 0:
            await asyncio.sleep(0.1)
        give_up = time.monotonic() + GIVE_UP_AFTER_S
        while time.monotonic() < give_up and any(v.last_id < last for v in viewers):
            await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*tasks)

    run_event_loop(main())
    out.put([(v.ids, v.arrived_ns, v.connections, v.refused) for v in viewers])


def append_steadily(
    app: Any, session_id: UUID, rate: int, seconds: float, appended: dict[int, int]
) -> None:
    agent = app.create_agent(session_id, "writer")
    per_batch = max(1, int(rate * BATCH_EVERY))
    started = time.perf_counter()
    sent = 0
    while (elapsed := time.perf_counter() - started) < seconds:
        due = int(elapsed * rate)
        if sent >= due:
            time.sleep(BATCH_EVERY / 4)
            continue
        for i in range(min(per_batch, due - sent)):
            agent.emit_text(f"line {sent + i}")
        recordings = app.save(agent)
        now = time.time_ns()
        for recording in recordings:
            appended[recording.notification.id] = now
        sent += len(recordings)


def session_ids_after(conninfo: str, session_id: UUID, after: int) -> list[int]:
    """What a viewer of the session's stream starting after ``after`` must get: the store's word."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT notification_id FROM events WHERE session_id = %s AND notification_id > %s "
            "ORDER BY notification_id",
            (session_id, after),
        ).fetchall()
    return [int(row[0]) for row in rows]


async def run(conninfo: str, clients: int, rate: int, seconds: float, tmp: Path) -> dict[str, Any]:
    config = SystemConfig(cwd=tmp / "work", database_url=conninfo, data_dir=tmp / "data", demo=True)
    options = ServeOptions("127.0.0.1", 0, None, None, "memory://", tmp / "logs")
    allow_open_files(clients + 256)
    async with running_gateway(config, options) as running:
        app = running.system.app
        session = await asyncio.to_thread(app.start_session, "fanout", str(config.cwd))
        with psycopg.connect(conninfo) as conn:
            after = head(conn)
        context = multiprocessing.get_context("spawn")
        queue: multiprocessing.Queue[Any] = context.Queue()
        last_appended: Synchronized[int] = context.Value("q", 0)
        path = f"/api/stream?session={session.id}"
        shares = _split(clients, math.ceil(clients / VIEWERS_PER_PROCESS))
        processes = [
            context.Process(
                target=watch,
                args=(running.url, path, after, share),
                kwargs={"last_appended": last_appended, "out": queue},
            )
            for share in shares
        ]
        for process in processes:
            process.start()
        for _ in processes:  # every viewer is connected
            await asyncio.to_thread(queue.get)
        appended: dict[int, int] = {}
        writer = threading.Thread(
            target=append_steadily, args=(app, session.id, rate, seconds, appended)
        )
        writer.start()
        await asyncio.to_thread(writer.join)
        last_appended.value = max(appended)
        received: list[Received] = []
        for _ in processes:
            received += await asyncio.to_thread(queue.get)
        for process in processes:
            await asyncio.to_thread(process.join)
        expected = session_ids_after(conninfo, session.id, after)
    return _figures(expected, appended, received, seconds)


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _figures(
    expected: list[int], appended: dict[int, int], received: list[Received], seconds: float
) -> dict[str, Any]:
    report = StreamReport()
    latencies: list[float] = []
    refused = reconnects = 0
    for n, (ids, arrived_ns, connections, refusal) in enumerate(received):
        report.add(f"viewer {n}", check_stream(expected, ids))
        reconnects += max(0, connections - 1)
        refused += refusal is not None
        for nid, at in zip(ids, arrived_ns, strict=True):
            committed = appended.get(nid)
            if committed is not None:
                latencies.append((at - committed) / 1e6)
    return {
        "events": len(appended),
        "deliveries": len(latencies),
        "report": report,
        "reconnects": reconnects,
        "refused": refused,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else 0.0,
        "achieved_rate": len(appended) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rate", type=int, default=1000, help="events appended per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--load", type=int, default=0, help="busy loops to run beside it")
    add_database_argument(parser)
    args = parser.parse_args()
    python_loop_seconds()  # before the busy loops start: the machine on its own
    with scratch_system("fanout", args.database_url) as (conninfo, tmp), cpu_hog(args.load):
        figures = run_event_loop(run(conninfo, args.clients, args.rate, args.seconds, tmp))
    report: StreamReport = figures["report"]
    rate, p50, p99 = figures["achieved_rate"], figures["p50_ms"], figures["p99_ms"]
    print(f"load:      {args.load} busy loops beside")
    print(f"viewers:   {args.clients} SSE streams (in other processes)")
    print(f"appended:  {figures['events']:,} events at {rate:,.0f}/s for {args.seconds:.0f} s")
    print(
        f"delivered: {figures['deliveries']:,}; missing {report.missing}, duplicates "
        f"{report.duplicates}, out of order {report.out_of_order}, unexpected "
        f"{report.unexpected}; {figures['reconnects']} reconnects, {figures['refused']} refused"
    )
    for viewer, ids in report.missed.items():
        print(f"  {viewer} missed {ids}")
    print(f"latency:   p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {figures['max_ms']:.1f} ms")
    print_result(
        {
            "bench": "fanout",
            "clients": args.clients,
            "rate": args.rate,
            "load": args.load,
            "p50_ms": rounded(p50, 2),
            "p99_ms": rounded(p99, 2),
            **report.as_json(),
            "reconnects": figures["reconnects"],
        }
    )


if __name__ == "__main__":
    main()
