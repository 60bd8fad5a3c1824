"""The event loop podium runs on: uvloop where it exists, asyncio's otherwise.

A gateway's event loop writes every live event to every open stream; with a
hundred viewers that is thousands of socket writes a second, on one thread.
uvloop (libuv, in C) does each loop iteration, callback and write at a
fraction of asyncio's cost: on the 2-core machine of bench/fanout.py it cut
the append-to-viewer latency from tens of milliseconds to a few. It does not
exist for Windows, where podium falls back to asyncio.

The loop shares the interpreter with threads that wait on PostgreSQL, above
all the group committer, which every save waits for. When the database
answers, such a thread needs the GIL back; while the loop is busy, Python
makes it wait up to its switch interval, 5 ms by default, several times a
commit takes. At 1 ms the runtime's saves were about 15% faster in
bench/ingest.py (104,000 → 118,000 events/s, runs interleaved on one machine).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

SWITCH_INTERVAL = 0.001  # seconds; see above


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a new event loop (like ``asyncio.run``)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(main)
    return uvloop.run(main)
