"""How much of what waits the group committer takes into its next transaction.

A commit has a fixed cost (the call, the table lock, the WAL flush) and a
cost per event; the writers have a cost per event too (the domain, the
mapper), paid on the GIL. Two ways to spend them:

- **one group takes everything waiting**: one flush for all, but while it
  commits no writer has anything to prepare (they all wait for this commit),
  and while they then prepare their next events the database has nothing to
  do: asyncio writers, which run one at a time on their loop, end up all in
  every group, the loop idle while the database works, then the reverse;
- **half of it**: two flushes, but while one half commits the other half's
  writers prepare, so the writers' work hides behind the database's.

The second is worth its extra flush when the writers take longer to prepare
what waits than the database takes to commit it. So a group takes every
event waiting (up to a generous cap, so a slow flush makes bigger groups,
not a lower ceiling), unless the writers were measured to be the slower
side: then a group that would take more than ``SPLIT_ABOVE`` events takes
half. The writers' pace is measured on what they queued in one go since the
committer last answered them; the database's on the last commit. Nothing here is
tuned to a machine: both are measured as the committer runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

# A generous bound: a group this big is inserted in a few tens of milliseconds,
# and it keeps one transaction's parameters (and a failed group's retries, one
# caller at a time) within reason.
MAX_GROUP_EVENTS = 4096
# Groups this small are never split: a second flush would cost more than the
# few events' preparation it could hide.
SPLIT_ABOVE = 64


class Queued(Protocol):
    """What sizing needs of a caller: its events, and when it queued them."""

    @property
    def events(self) -> Sequence[object]: ...

    @property
    def queued_at(self) -> float: ...


C = TypeVar("C", bound=Queued)


class GroupSizing(Generic[C]):
    """The committer's measure of both sides, and the size of its next group."""

    def __init__(self, max_events: int = MAX_GROUP_EVENTS) -> None:
        self.max_events = max_events
        self.commit_seconds = 0.0  # the last group's insert and commit
        self.seconds_per_event = 0.0  # the writers' pace, last measured
        # When the last two groups were answered: what has queued since the
        # last answer (or, if nothing has yet, since the one before) is what
        # the writers prepared in that time.
        self._answered = (0.0, 0.0)

    def take(self, waiting: deque[C]) -> list[C]:
        """Pop the next group off the front of ``waiting`` (never empty)."""
        events = sum(len(caller.events) for caller in waiting)
        self._measure_writers(waiting)
        limit = self.limit(events)
        group: list[C] = []
        size = 0
        while waiting and size < limit:  # the caller that crosses the line comes too
            caller = waiting.popleft()
            group.append(caller)
            size += len(caller.events)
        return group

    def limit(self, waiting_events: int) -> int:
        """How many of ``waiting_events`` the next group takes (see the module's doc)."""
        if waiting_events <= SPLIT_ABOVE:
            return self.max_events
        if self.seconds_per_event * waiting_events > self.commit_seconds:
            return min(self.max_events, max(SPLIT_ABOVE, waiting_events // 2))
        return self.max_events

    def committed(self, began: float, answered: float) -> None:
        """The last group's commit began at ``began`` and its callers were answered
        at ``answered`` (``time.perf_counter()`` values, as ``queued_at`` is)."""
        self.commit_seconds = answered - began
        self._answered = (self._answered[1], answered)

    def _measure_writers(self, waiting: deque[C]) -> None:
        """The writers' pace: how fast they queued what they prepared in one go.

        What queued since the last answer is that; when nothing has queued
        since (the committer answered a moment ago, and others were waiting),
        what queued since the answer before. From the first of those to the
        last, not from the answer: a quiet spell before a burst is no pace.
        """
        before_last, last = self._answered
        for since in (last, before_last):
            arrived = [c.queued_at for c in waiting if c.queued_at > since]
            if len(arrived) > 1:
                events = sum(len(c.events) for c in waiting if c.queued_at > since)
                self.seconds_per_event = (max(arrived) - min(arrived)) / events
                return
