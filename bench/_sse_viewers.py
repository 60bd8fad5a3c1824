"""SSE viewers for the benches, and the check of what each one received.

A viewer is a raw asyncio protocol on a socket: receiving a chunk costs one
callback that notes the time and keeps the bytes; the ids in them are
parsed later (``parse``), in bulk. So a thousand viewers in one process
measure podium's delivery, not their own parsing competing with it.

Every viewer starts from a known point (``Last-Event-ID``), so what it should
get is exact: every stored event after that point that its filter selects,
once, in order. When its connection is lost it reconnects from the last
complete event it received, as a browser's EventSource does.
"""

from __future__ import annotations

import asyncio
import re
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import cast

# An event counts as received once its blank line has arrived: a connection
# cut in the middle of one gets it again, whole, after reconnecting.
_EVENT_END = b"\n\n"
_ID = re.compile(rb"(?m)^id: (\d+)$")
Chunk = tuple[int, bytes]  # when it arrived (time.time_ns()), what arrived


class _Connection(asyncio.Protocol):
    def __init__(self, viewer: Viewer, request: bytes) -> None:
        self.viewer = viewer
        self.request = request
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.Transport, transport).write(self.request)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.viewer.chunks.append((time.time_ns(), data))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


@dataclass
class Viewer:
    """One SSE client of ``path`` starting after notification id ``after``."""

    host: str
    port: int
    path: str
    after: int
    ids: array[int] = field(default_factory=lambda: array("q"))  # complete events, in order
    arrived_ns: array[int] = field(default_factory=lambda: array("q"))
    chunks: list[Chunk] = field(default_factory=list)  # received, not yet parsed
    connections: int = 0
    refused: str | None = None  # the status line of a response that was not 200
    _pending: bytes = b""
    _transport: asyncio.Transport | None = None
    _connection: _Connection | None = None

    @property
    def last_id(self) -> int:
        """Where a reconnection resumes: the last complete event received."""
        self.parse()
        return self.ids[-1] if self.ids else self.after

    @property
    def answered(self) -> bool:
        """Whether podium has begun to answer (its response's first bytes arrived)."""
        return bool(self.chunks or self._pending or self.ids)

    async def connect(self) -> None:
        """Open a connection resuming after the last event received (OSError if refused)."""
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Accept: text/event-stream\r\nLast-Event-ID: {self.last_id}\r\n\r\n"
        ).encode()
        self._pending = b""
        loop = asyncio.get_running_loop()
        connection = _Connection(self, request)
        transport, _ = await loop.create_connection(lambda: connection, self.host, self.port)
        self._transport, self._connection = transport, connection
        self.connections += 1

    async def closed(self) -> None:
        """Wait until the current connection is lost."""
        if self._connection is not None:
            await self._connection.lost

    def disconnect(self) -> None:
        """Cut the connection, as a browser tab going away does."""
        if self._transport is not None:
            self._transport.abort()

    async def keep_watching(self, stop: asyncio.Event, retry_s: float = 0.2) -> None:
        """Stay connected until ``stop``, reconnecting whenever the connection is lost."""
        while not stop.is_set():
            try:
                await self.connect()
            except OSError:  # podium is restarting
                await asyncio.sleep(retry_s)
                continue
            lost = asyncio.ensure_future(self.closed())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait([lost, stopping], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if stop.is_set():
                lost.cancel()
                self.disconnect()
            else:
                self.parse()
                self._pending = b""  # an event cut in the middle comes again whole
                await asyncio.sleep(retry_s)
        self.parse()

    def parse(self) -> None:
        """Turn the chunks received so far into ids and arrival times."""
        chunks, self.chunks = self.chunks, []
        for at, chunk in chunks:
            pending = self._pending + chunk
            if pending.startswith(b"HTTP/"):
                status = pending.split(b"\r\n", 1)[0]
                if status.split(b" ")[1:2] != [b"200"]:
                    self.refused = status.decode(errors="replace")
            cut = pending.rfind(_EVENT_END)
            if cut < 0:
                self._pending = pending
                continue
            for match in _ID.finditer(pending, 0, cut):
                self.ids.append(int(match.group(1)))
                self.arrived_ns.append(at)
            self._pending = pending[cut + len(_EVENT_END) :]


@dataclass(frozen=True)
class StreamCheck:
    """What one viewer got wrong against what the store says it should have got."""

    missed: list[int]  # expected, never received
    duplicates: int  # received more than once
    out_of_order: int  # received after an id not smaller than it
    unexpected: list[int]  # received, but not an event its filter selects

    @property
    def clean(self) -> bool:
        return not (self.missed or self.duplicates or self.out_of_order or self.unexpected)


def check_stream(expected: Sequence[int], received: Sequence[int]) -> StreamCheck:
    wanted, got = set(expected), set(received)
    return StreamCheck(
        missed=sorted(wanted - got),
        duplicates=len(received) - len(got),
        out_of_order=sum(1 for a, b in pairwise(received) if b <= a),
        unexpected=sorted(got - wanted),
    )


@dataclass
class StreamReport:
    """The checks of many viewers, summed, with the first few ids each one missed."""

    viewers: int = 0
    missing: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    unexpected: int = 0
    missed: dict[str, list[int]] = field(default_factory=dict)

    def add(self, name: str, check: StreamCheck, shown: int = 20, shown_viewers: int = 10) -> None:
        self.viewers += 1
        self.missing += len(check.missed)
        self.duplicates += check.duplicates
        self.out_of_order += check.out_of_order
        self.unexpected += len(check.unexpected)
        if check.missed and len(self.missed) < shown_viewers:
            self.missed[name] = check.missed[:shown]

    def as_json(self) -> dict[str, object]:
        return {
            "missing": self.missing,
            "missed": self.missed,
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "unexpected": self.unexpected,
        }
