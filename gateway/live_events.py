"""The live feed of one gateway process, kept in memory for its viewers.

Two things reach open streams live: batches of new events, which the log
feed reads from PostgreSQL, and partial text, which runtimes publish through
the broadcaster and which is never stored. Both are appended here, in the
order they arrived, and every viewer reads what follows its own cursor.

Why a shared tail rather than a queue per viewer: a viewer that falls
behind (a slow network, a busy machine) wakes up to everything that arrived
meanwhile and sends it as one write, instead of one write per batch, so the
work per viewer shrinks as the load grows; the tail's memory is bounded,
where a queue per viewer grows without limit; and each batch is encoded as
Server-Sent Events once per distinct filter, not once per viewer. A viewer
that falls off the end of the tail catches up from the store, as a
reconnecting client does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterable

import msgspec

from projections.event_view import Routed

# How much of the live feed is kept for viewers that fall behind, by size of
# the encoded events: past this, the oldest batches go and a viewer that
# still needed them reads them from the store.
DEFAULT_CAPACITY_BYTES = 32 * 1024 * 1024

FilterKey = tuple[str | None, str | None, str | None]  # session, agent (lower case), category


class Delta(msgspec.Struct, frozen=True):
    """Partial text as it streams (for live viewers only), as the browser gets it.

    ``body`` is the JSON the runtime published; session and agent are read
    from it so that streams can filter without decoding it again.
    """

    session_id: str
    agent_id: str
    body: bytes

    @property
    def sse(self) -> bytes:
        return b"event: delta\ndata: " + self.body + b"\n\n"


class _DeltaRouting(msgspec.Struct):
    session_id: str = ""
    agent_id: str = ""


def delta_from_json(body: bytes | str) -> Delta:
    """A delta as published through the broadcaster (a JSON object with a ``kind``)."""
    raw = body.encode() if isinstance(body, str) else body
    routing = msgspec.json.decode(raw, type=_DeltaRouting)
    return Delta(routing.session_id, routing.agent_id, raw)


def sse_event(item: Routed) -> bytes:
    """One stored event as a Server-Sent Event; its id is the notification id."""
    return b"id: %d\nevent: event\ndata: " % item.id + item.body + b"\n\n"


class LogBatch:
    """Consecutive events of the log, as one feed read returned them."""

    __slots__ = ("_sse", "items", "last_id", "size")

    def __init__(self, items: tuple[Routed, ...]) -> None:
        self.items = items
        self.last_id = items[-1].id
        self.size = sum(len(item.body) for item in items)
        self._sse: dict[FilterKey, bytes] = {}

    def after(self, position: int) -> LogBatch | None:
        """The part of the batch past ``position``: all of it, some, or None."""
        if self.items[0].id > position:
            return self
        fresh = tuple(item for item in self.items if item.id > position)
        return LogBatch(fresh) if fresh else None

    def wanted(self, key: FilterKey) -> list[Routed]:
        session, agent, category = key
        return [item for item in self.items if item.matches(session, agent, category)]

    def sse(self, key: FilterKey) -> bytes:
        """The batch as Server-Sent Events for one filter, encoded once per filter."""
        chunk = self._sse.get(key)
        if chunk is None:
            chunk = self._sse[key] = b"".join(sse_event(item) for item in self.wanted(key))
        return chunk


Entry = LogBatch | Delta


class LiveEvents:
    """The recent live feed, in arrival order, addressed by a sequence number.

    Owned by the event loop: append and read on the loop's thread.
    """

    def __init__(self, capacity_bytes: int = DEFAULT_CAPACITY_BYTES) -> None:
        self.capacity_bytes = capacity_bytes
        self._entries: deque[Entry] = deque()
        self._first = 0  # sequence number of _entries[0]
        self._bytes = 0
        self._arrived = asyncio.Event()
        self.last_id = 0  # the newest event's notification id appended so far

    @property
    def cursor(self) -> int:
        """The sequence number the next entry will have."""
        return self._first + len(self._entries)

    def start_at(self, position: int) -> None:
        """The log position the feed starts from (events up to it are not in the tail)."""
        self.last_id = max(self.last_id, position)

    def append_events(self, items: Iterable[Routed]) -> None:
        batch = tuple(item for item in items if item.id > self.last_id)
        if batch:
            entry = LogBatch(batch)
            self.last_id = entry.last_id
            self._append(entry, entry.size)

    def append_delta(self, delta: Delta) -> None:
        self._append(delta, len(delta.body))

    def since(self, cursor: int) -> list[Entry] | None:
        """Entries from ``cursor`` on; None if some of them were already dropped."""
        if cursor < self._first:
            return None
        start = cursor - self._first
        if start == 0:
            return list(self._entries)
        return [self._entries[i] for i in range(start, len(self._entries))]

    async def wait(self, cursor: int, timeout: float) -> bool:
        """Wait until there is an entry at ``cursor`` or later; False on timeout."""
        if cursor < self.cursor:
            return True
        arrived = self._arrived
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await arrived.wait()
        return cursor < self.cursor

    def _append(self, entry: Entry, size: int) -> None:
        self._entries.append(entry)
        self._bytes += size
        while self._bytes > self.capacity_bytes and len(self._entries) > 1:
            dropped = self._entries.popleft()
            self._first += 1
            self._bytes -= dropped.size if isinstance(dropped, LogBatch) else len(dropped.body)
        # Wake everyone waiting now; later waiters wait on a fresh event.
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()
