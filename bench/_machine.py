"""The machine a bench runs on: how fast it is, and load to run beside it.

Figures from the project's shared 2-core machines differ from session to
session; the time of a 10-million-step Python loop, printed with them, says
how fast this one was. ``cpu_hog`` runs busy loops on every core beside a
bench, to see what podium does when it does not get the CPU it wants.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Event as ProcessEvent

LOOP_STEPS = 10_000_000


def python_loop_seconds() -> float:
    """Seconds this machine takes for a 10-million-step Python loop."""
    started = time.perf_counter()
    for _ in range(LOOP_STEPS):
        pass
    return time.perf_counter() - started


def _spin(stop: ProcessEvent) -> None:
    while not stop.is_set():
        for _ in range(100_000):
            pass


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
