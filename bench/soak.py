"""Soak: agents at work while podium, PostgreSQL and the model are broken on purpose.

For ``--minutes``, ten agents take commands (through the HTTP API, each with
an Idempotency-Key, retried with the same key until acknowledged) while, at
random moments (``--seed``), the harness kills `podium up` with SIGKILL and
starts it again, restarts its PostgreSQL (``pg_ctl restart -m fast`` and
``-m immediate``), cuts every connection with ``pg_terminate_backend``,
makes the model answer 429, 500 or 529, and makes it stall (a slow stream);
twenty SSE viewers are cut at random points and reconnect with
Last-Event-ID. PostgreSQL is the bench's own (pgserver's binaries, in a
temporary folder); the model double runs in the bench, so faults can be
injected while podium runs (podium uses it as "the API", through
ANTHROPIC_BASE_URL). One line per fault, then, after a last clean restart
and catch-up, the checks: every acknowledged command executed exactly once,
every event acknowledged or seen by a viewer in the store exactly once,
viewers' streams without gap or duplicate, read models equal to a fresh fold.

    .venv/bin/python bench/soak.py --minutes 5 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from _database import percentile, print_result, rounded
from _processes import OwnPostgres, PodiumProcess, ShutdownMode
from _soak_checks import Verdict, finished, judge
from _sse_viewers import StreamReport, Viewer, check_stream

from gateway.loop import run as run_event_loop
from runtime.model_double import ModelDouble, cli_env

AGENTS = 10
VIEWERS = 20
TASKS = ["create a simple hello world app", "create a simple hello world app", "do it slow"]
RETRY_S = 0.3
GIVE_UP_S = 60.0  # a command not acknowledged by then is a finding in itself


def _in_flight(response: httpx.Response) -> bool:
    """Podium's answer while the first request with this key is still being handled:
    ask again later, with the same key."""
    return response.status_code == 409 and "still running" in response.text


@dataclass
class Ledger:
    """What podium acknowledged: each command's Idempotency-Key and the task it answered."""

    tasks: dict[str, str] = field(default_factory=dict)  # key: "agent/task"
    refused: int = 0
    unacknowledged: int = 0  # retried with its key for GIVE_UP_S, never answered
    recoveries: list[float] = field(default_factory=list)


class Soak:
    def __init__(self, folder: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        self.folder = folder
        self.postgres = OwnPostgres(folder)
        self.double = ModelDouble(keep_requests=1000)
        self.ledger = Ledger()
        self.stop = asyncio.Event()
        self.started = time.monotonic()
        self.http = httpx.AsyncClient(timeout=30)
        self.podium: PodiumProcess
        self.session = ""
        self.viewers: list[Viewer] = []

    def say(self, line: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f} s] {line}", flush=True)

    # -- commands, retried with the same key until podium answers -------------------------

    async def post(self, path: str, body: dict[str, Any], key: str) -> httpx.Response | None:
        deadline = time.monotonic() + GIVE_UP_S
        while time.monotonic() < deadline:
            try:
                response = await self.http.post(
                    self.podium.url + path, json=body, headers={"Idempotency-Key": key}
                )
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code < 500 and not _in_flight(response):
                return response
            await asyncio.sleep(RETRY_S)
        self.say(f"gave up on POST {path} (key {key}): never acknowledged")
        self.ledger.unacknowledged += 1
        return None

    async def command(self, agent: str, text: str) -> bool:
        key = str(uuid.uuid4())
        response = await self.post(
            f"/api/sessions/{self.session}/agents/{agent}/commands", {"command": text}, key
        )
        if response is None:
            return False
        if response.is_success:
            self.ledger.tasks[key] = f"{agent}/{response.json()['task']}"
            return True
        self.ledger.refused += 1
        self.say(f"command refused: {response.status_code} {response.text[:200]}")
        return False

    async def agent_work(self, name: str) -> None:
        while not self.stop.is_set():
            await self.command(name, self.rng.choice(TASKS))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.rng.uniform(6, 20)):
                    await self.stop.wait()

    # -- faults ---------------------------------------------------------------------------

    async def kill_podium(self) -> str:
        await asyncio.to_thread(self.podium.kill)
        await asyncio.to_thread(self.podium.start)
        return "kill -9 podium, started again"

    async def restart_postgres(self, mode: ShutdownMode) -> str:
        await asyncio.to_thread(self.postgres.restart, mode)
        return f"pg_ctl restart -m {mode}"

    async def terminate_backends(self) -> str:
        with psycopg.connect(self.postgres.url(), autocommit=True) as conn:
            cut = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()
        return f"pg_terminate_backend: {cut[0] if cut else 0} connections cut"

    async def model_fault(self) -> str:
        status = self.rng.choice([429, 500, 529])
        times = self.rng.randint(1, 6)  # past the CLI's two retries, a turn fails
        self.double.fail_next(status, times, retry_after=1 if status == 429 else None)
        return f"model answers {status} to the next {times} requests"

    async def model_stall(self) -> str:
        agent = f"agent{self.rng.randrange(AGENTS)}"
        await self.command(agent, "work slow on the report")
        return f"model stalls: a slow stream for {agent}"

    async def faults(self) -> None:
        kinds: list[Callable[[], Awaitable[str]]] = [
            self.kill_podium,
            lambda: self.restart_postgres("fast"),
            lambda: self.restart_postgres("immediate"),
            self.terminate_backends,
            self.model_fault,
            self.model_stall,
        ]
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.rng.uniform(8, 20)):
                    await self.stop.wait()
            if self.stop.is_set():
                return
            at = time.monotonic()
            what = await self.rng.choice(kinds)()
            recovery = await self.recovered(at)
            self.ledger.recoveries.append(recovery)
            self.say(f"{what}; answering /healthz and commands again after {recovery:.2f} s")

    async def recovered(self, since: float) -> float:
        """Seconds from ``since`` until podium answers /healthz and acknowledges a command."""
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await self.http.get(self.podium.url + "/healthz")).status_code == 200:
                    break
            await asyncio.sleep(0.05)
        await self.command(f"agent{self.rng.randrange(AGENTS)}", TASKS[0])
        return time.monotonic() - since

    # -- viewers --------------------------------------------------------------------------

    async def cut_viewers(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.rng.uniform(0.5, 4)):
                    await self.stop.wait()
            self.rng.choice(self.viewers).disconnect()

    # -- the run --------------------------------------------------------------------------

    async def setup(self) -> int:
        await self.double.start()
        await asyncio.to_thread(self.postgres.start)
        home = self.folder / "home"
        env = {
            **os.environ,
            **cli_env(self.double, home),
            "DATABASE_URL": self.postgres.url(),
            "PODIUM_DATA_DIR": str(self.folder / "data"),
        }
        self.podium = PodiumProcess(self.folder, env)
        await asyncio.to_thread(self.podium.start)
        await asyncio.to_thread(self.podium.wait_healthy)
        created = await self.post("/api/sessions", {"title": "soak"}, str(uuid.uuid4()))
        assert created is not None and created.is_success, created and created.text
        self.session = created.json()["session_id"]
        for n in range(AGENTS):
            made = await self.post(
                f"/api/sessions/{self.session}/agents", {"name": f"agent{n}"}, str(uuid.uuid4())
            )
            assert made is not None and made.is_success, made and made.text
        with psycopg.connect(self.postgres.url()) as conn:
            row = conn.execute("SELECT max(notification_id) FROM podium_events").fetchone()
        start = int(row[0]) if row and row[0] else 0
        host, port = "127.0.0.1", self.podium.port
        path = f"/api/stream?session={self.session}"
        self.viewers = [Viewer(host, port, path, start) for _ in range(VIEWERS)]
        return start

    async def run(self, minutes: float) -> Verdict:
        start = await self.setup()
        watching = asyncio.Event()
        viewers = [asyncio.create_task(v.keep_watching(watching)) for v in self.viewers]
        work = [asyncio.create_task(self.agent_work(f"agent{n}")) for n in range(AGENTS)]
        disruption = [asyncio.create_task(self.faults()), asyncio.create_task(self.cut_viewers())]
        self.say(f"{AGENTS} agents, {VIEWERS} viewers, faults for {minutes:g} minutes")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(minutes * 60):
                await self.stop.wait()
        self.stop.set()
        await asyncio.gather(*work, *disruption)
        self.say("a last clean restart")
        await asyncio.to_thread(self.podium.stop)
        await asyncio.to_thread(self.podium.start)
        await asyncio.to_thread(self.podium.wait_healthy)
        until = await self.catch_up()
        watching.set()
        await asyncio.gather(*viewers)
        await asyncio.to_thread(self.podium.stop)
        return await asyncio.to_thread(self.judge, start, until)

    async def catch_up(self, timeout: float = 600.0) -> int:
        """Until every acknowledged task has ended and every viewer has the log's head,
        which it returns."""
        deadline = time.monotonic() + timeout
        tasks = set(self.ledger.tasks.values())
        while True:
            with psycopg.connect(self.postgres.url()) as conn:
                ended = finished(conn)
                row = conn.execute("SELECT max(notification_id) FROM podium_events").fetchone()
            head = int(row[0]) if row and row[0] else 0
            if tasks <= ended and all(v.last_id >= head for v in self.viewers):
                return head
            if time.monotonic() > deadline:
                self.say(f"catch-up timed out: {len(tasks - ended)} tasks never ended")
                return head
            await asyncio.sleep(1)

    def judge(self, start: int, until: int) -> Verdict:
        """The verdict on the log up to ``until``, where every viewer was when they stopped."""
        report = StreamReport()
        with psycopg.connect(self.postgres.url()) as conn:
            expected = [
                row[0]
                for row in conn.execute(
                    "SELECT notification_id FROM events WHERE session_id = %s "
                    "AND notification_id > %s AND notification_id <= %s ORDER BY 1",
                    (self.session, start, until),
                )
            ]
        for n, viewer in enumerate(self.viewers):
            seen = [nid for nid in viewer.ids if nid <= until]
            report.add(f"viewer {n}", check_stream(expected, seen))
        return judge(self.postgres.url(), self.ledger.tasks, report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="podium-soak-") as tmp:
        os.chmod(tmp, 0o755)  # PostgreSQL runs as its own user under root
        soak = Soak(Path(tmp), args.seed)

        async def go() -> Verdict:
            try:
                return await soak.run(args.minutes)
            finally:
                soak.podium.kill()
                await soak.double.stop()
                with contextlib.suppress(Exception):
                    soak.postgres.stop()

        verdict = run_event_loop(go())
    recoveries = soak.ledger.recoveries
    for line in verdict.lines:
        print(line)
    print_result(
        {
            "bench": "soak",
            "events": verdict.events,
            "commands": len(soak.ledger.tasks),
            "lost": verdict.lost,
            "duplicates": verdict.duplicates,
            "executed_twice": verdict.executed_twice,
            "viewer_gaps": verdict.viewer_gaps,
            "recovery_s_p99": rounded(percentile(recoveries, 99), 2),
        },
        compact=True,
    )
    sys.exit(0 if verdict.clean and not soak.ledger.unacknowledged else 1)


if __name__ == "__main__":
    main()
