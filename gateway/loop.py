"""The event loop podium runs on: uvloop where it exists, asyncio's otherwise.

A gateway's event loop writes every live event to every open stream; with a
hundred viewers that is thousands of socket writes a second, on one thread.
uvloop (libuv, in C) does each loop iteration, callback and write at a
fraction of asyncio's cost: on the 2-core machine of bench/fanout.py it cut
the append-to-viewer latency from tens of milliseconds to a few. It does not
exist for Windows, where podium falls back to asyncio.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a new event loop (like ``asyncio.run``)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(main)
    return uvloop.run(main)
