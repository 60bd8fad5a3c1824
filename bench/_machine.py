"""The machine a bench runs on: how fast it is, and load to run beside it.

Figures from the project's shared 2-core machines differ from session to
session; the time of a 10-million-step Python loop, printed with them, says
how fast this one was. ``Stopwatch`` times a run with the CPU this process
and the machine used meanwhile. ``cpu_hog`` runs busy loops on every core beside a
bench, to see what podium does when it does not get the CPU it wants.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.synchronize import Event as ProcessEvent

LOOP_STEPS = 10_000_000


@functools.cache
def python_loop_seconds() -> float:
    """Seconds this machine takes for a 10-million-step Python loop (measured once
    per run: a bench that wants it before its load starts asks early)."""
    started = time.perf_counter()
    for _ in range(LOOP_STEPS):
        pass
    return time.perf_counter() - started


def _spin(stop: ProcessEvent) -> None:
    while not stop.is_set():
        for _ in range(100_000):
            pass


@dataclass
class CpuUse:
    """CPU used while the writers ran: by this process (all threads), by the machine."""

    process_cores: float = 0.0
    machine_busy: float = 0.0  # fraction of all cores, everyone's work included


def _machine_ticks() -> tuple[int, int]:
    """(all, idle) CPU ticks since boot, from /proc/stat; zeros where there is none."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(t) for t in stat.readline().split()[1:]]
    except OSError:
        return 0, 0
    return sum(ticks), ticks[3] + ticks[4]  # idle + iowait


class Stopwatch:
    """Wall time and CPU use (this process's, the machine's) of the writers' run."""

    def __enter__(self) -> Stopwatch:
        self.began, self.cpu_began = time.perf_counter(), time.process_time()
        self.machine_began = _machine_ticks()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.began
        machine_end = _machine_ticks()
        all_ticks = machine_end[0] - self.machine_began[0]
        idle = machine_end[1] - self.machine_began[1]
        self.cpu = CpuUse(
            process_cores=(time.process_time() - self.cpu_began) / self.seconds,
            machine_busy=1 - idle / all_ticks if all_ticks else 0.0,
        )


@contextlib.contextmanager
def cpu_hog(processes: int) -> Iterator[None]:
    """``processes`` busy loops, each a process of its own, while in the block."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    hogs = [context.Process(target=_spin, args=(stop,), daemon=True) for _ in range(processes)]
    for hog in hogs:
        hog.start()
    try:
        yield
    finally:
        stop.set()
        for hog in hogs:
            hog.join()


def allow_open_files(wanted: int) -> None:
    """Raise this process's open-file limit to ``wanted`` (as far as the hard limit allows):
    a thousand viewers are a thousand sockets on each side."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
