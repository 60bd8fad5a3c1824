"""Writing an aggregate's events from async code, in order, without blocking the event loop.

The runtime mutates aggregates on the event loop (the domain decides there)
and awaits their save (group commit waits for the disk on its own thread,
and wakes the loop once per group). A journal serialises this per
aggregate: the next change waits until the previous one is durable, so one
aggregate's events never reach the store out of order, while different
aggregates' saves still share group commits. Saving, and deciding again when
another writer appended first, is the service's (``Podium.decide_async``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from eventsourcing.domain import Aggregate

from domain.application import Podium

A = TypeVar("A", bound=Aggregate)


class Journal(Generic[A]):
    """The one writer of an aggregate in this process."""

    def __init__(self, app: Podium, aggregate: A) -> None:
        self.app = app
        self.aggregate = aggregate
        self._lock = asyncio.Lock()

    async def write(self, change: Callable[[A], object]) -> int | None:
        """Let ``change`` decide on the aggregate, save what it decided, and
        return the notification id of the last event saved (None if none)."""
        async with self._lock:
            self.aggregate, ids = await self.app.decide_async(self.aggregate, change)
            return ids[-1] if ids else None

    async def catch_up(self, version: int) -> None:
        """Make sure the aggregate includes the event with ``version``."""
        async with self._lock:
            if self.aggregate.version < version:
                self.aggregate = await asyncio.to_thread(self.app.repository.get, self.aggregate.id)
