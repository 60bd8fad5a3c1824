"""How fast the summarizer calls the model: a rate limit, and a backoff after failures."""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque

MAX_BACKOFF_S = 300.0  # an outage is tried again at least every five minutes


class RateLimit:
    """At most ``per_minute`` calls started in any sixty seconds."""

    def __init__(self, per_minute: int) -> None:
        if per_minute < 1:
            raise ValueError("the summarizer's rate limit must allow at least one call a minute")
        self.per_minute = per_minute
        self._started: deque[float] = deque()

    async def wait(self) -> None:
        """Return when another call may start (and count it)."""
        while True:
            now = time.monotonic()
            while self._started and now - self._started[0] >= 60.0:
                self._started.popleft()
            if len(self._started) < self.per_minute:
                self._started.append(now)
                return
            await asyncio.sleep(60.0 - (now - self._started[0]))


def backoff(attempt: int, asked: float | None = None, base: float = 1.0) -> float:
    """Seconds before try ``attempt + 1`` after ``attempt`` failures: doubling
    from ``base`` with jitter, at least what the API asked for, at most
    MAX_BACKOFF_S."""
    doubled: float = base * 2.0 ** (attempt - 1)
    jittered = doubled * (0.5 + random.random() / 2)  # noqa: S311 - spreading retries, not secrets
    return min(MAX_BACKOFF_S, max(jittered, asked or 0.0))
