"""Fan-out: many live SSE viewers while events are appended at a steady rate.

Starts podium (gateway and all) on a scratch database, opens ``--clients``
Server-Sent Event streams from a separate process, appends events at
``--rate`` per second for ``--seconds``, and measures, for every event and
every viewer, the time from the append's commit to the viewer reading it.
Last line: one JSON object.

    .venv/bin/python bench/fanout.py --clients 100 --rate 1000
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import re
import threading
import time
from pathlib import Path
from uuid import UUID

from _database import add_database_argument, percentile, print_result, rounded, scratch_system

from gateway.loop import run as run_event_loop
from gateway.serve import ServeOptions, running_gateway
from gateway.system import SystemConfig

BATCH_EVERY = 0.01  # append in small groups every 10 ms, as busy agents do


_ID = re.compile(rb"(?m)^id: (\d+)$")
Chunk = tuple[int, bytes]  # when it arrived (ns), what arrived


async def _viewer(host: str, port: int, path: str, chunks: list[Chunk], ready: list[int]) -> None:
    """One SSE client. It only notes when each chunk arrived: the ids in them are
    parsed after the run, so that a hundred viewers in one process measure
    podium's delivery, not their own parsing competing with it for the CPU."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    ready.append(1)
    while chunk := await reader.read(1 << 16):
        chunks.append((time.time_ns(), chunk))


def arrivals(chunks: list[Chunk]) -> dict[int, int]:
    """When each event id arrived: the time of the chunk that completed its line."""
    received: dict[int, int] = {}
    pending = b""
    for at, chunk in chunks:
        pending += chunk
        cut = pending.rfind(b"\n")
        if cut < 0:
            continue
        for match in _ID.finditer(pending, 0, cut + 1):
            received[int(match.group(1))] = at
        pending = pending[cut + 1 :]
    return received


def viewers(url: str, path: str, clients: int, seconds: float, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """A separate process, so the viewers don't share podium's interpreter."""
    host, port = url.removeprefix("http://").split(":")
    streams: list[list[Chunk]] = [[] for _ in range(clients)]
    ready: list[int] = []

    async def main() -> None:
        tasks = [asyncio.create_task(_viewer(host, int(port), path, c, ready)) for c in streams]
        while len(ready) < clients:
            await asyncio.sleep(0.01)
        out.put("ready")
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    run_event_loop(main())
    out.put([arrivals(chunks) for chunks in streams])


def append_steadily(
    app, session_id: UUID, rate: int, seconds: float, appended: dict[int, int]
) -> None:  # type: ignore[no-untyped-def]
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


async def run(
    conninfo: str, clients: int, rate: int, seconds: float, tmp: Path
) -> dict[str, float]:
    config = SystemConfig(cwd=tmp / "work", database_url=conninfo, data_dir=tmp / "data", demo=True)
    options = ServeOptions("127.0.0.1", 0, None, None, "memory://", tmp / "logs")
    async with running_gateway(config, options) as running:
        app = running.system.app
        session = await asyncio.to_thread(app.start_session, "fanout", str(config.cwd))
        queue: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()  # type: ignore[type-arg]
        path = f"/api/stream?session={session.id}"
        process = multiprocessing.get_context("spawn").Process(
            target=viewers, args=(running.url, path, clients, seconds + 3, queue)
        )
        process.start()
        await asyncio.to_thread(queue.get)  # every viewer is connected
        appended: dict[int, int] = {}
        writer = threading.Thread(
            target=append_steadily, args=(app, session.id, rate, seconds, appended)
        )
        writer.start()
        await asyncio.to_thread(writer.join)
        tables = await asyncio.to_thread(queue.get)
        await asyncio.to_thread(process.join)
    latencies = [
        (table[nid] - at) / 1e6 for table in tables for nid, at in appended.items() if nid in table
    ]
    missing = sum(1 for table in tables for nid in appended if nid not in table)
    return {
        "events": len(appended),
        "deliveries": len(latencies),
        "missing": missing,
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
    add_database_argument(parser)
    args = parser.parse_args()
    with scratch_system("fanout", args.database_url) as (conninfo, tmp):
        figures = run_event_loop(run(conninfo, args.clients, args.rate, args.seconds, tmp))
    rate, p50, p99 = figures["achieved_rate"], figures["p50_ms"], figures["p99_ms"]
    print(f"viewers:   {args.clients} SSE streams (in a separate process)")
    print(f"appended:  {figures['events']:,} events at {rate:,.0f}/s for {args.seconds:.0f} s")
    print(f"delivered: {figures['deliveries']:,} (missing {figures['missing']})")
    print(f"latency:   p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {figures['max_ms']:.1f} ms")
    print_result(
        {
            "bench": "fanout",
            "clients": args.clients,
            "rate": args.rate,
            "p50_ms": rounded(figures["p50_ms"], 2),
            "p99_ms": rounded(figures["p99_ms"], 2),
            "missing": figures["missing"],
        }
    )


if __name__ == "__main__":
    main()
