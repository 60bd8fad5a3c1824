"""What travels through the broadcaster: new events and partial text, as JSON.

The gateway's feed publishes each batch of new events once, on a channel of
its gateway's own; runtimes publish partial text as a model writes it (never
stored), on one channel every gateway hears. Each gateway process subscribes
once to each and relays both into its live tail, which its open streams
read. Messages are JSON text, which every broadcaster backend carries:
memory:// within a process, a networked backend across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import uuid4

import msgspec
from broadcaster import Broadcast

from gateway.live_events import LiveEvents, delta_from_json
from projections.event_view import Routed

logger = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()
DELTAS = "podium-deltas"  # partial text, from every runtime to every gateway


def log_channel() -> str:
    """A channel for one gateway's batches of new events.

    Each gateway tails the log itself, so its batches are for its own viewers
    only: with a shared backend, batches from feeds at other positions would
    reach its tail out of order.
    """
    return f"podium-log-{uuid4().hex}"


class _WireEvent(msgspec.Struct, array_like=True, frozen=True):
    """A routed event on the wire: its encoded JSON goes in as it is."""

    id: int
    session_id: str
    agent: str
    category: str
    body: msgspec.Raw


_batch_decoder = msgspec.json.Decoder(list[_WireEvent])


def encode_batch(items: list[Routed]) -> str:
    wire = [_WireEvent(r.id, r.session_id, r.agent, r.category, msgspec.Raw(r.body)) for r in items]
    return _encoder.encode(wire).decode()


def decode_batch(message: str | bytes) -> list[Routed]:
    return [
        Routed(w.id, w.session_id, w.agent, w.category, bytes(w.body))
        for w in _batch_decoder.decode(message)
    ]


# The package each broadcaster backend needs, and the broadcaster extra with it.
BACKEND_EXTRAS = {"redis": "redis", "asyncpg": "postgres", "aiokafka": "kafka"}


class BroadcastUnavailable(ValueError):
    """A broadcast URL podium cannot use, with what to do about it."""


def open_broadcast(url: str) -> Broadcast:
    """The broadcaster for ``url`` (not yet connected), or a clear error."""
    scheme = url.partition("://")[0]
    try:
        return Broadcast(url)
    except ModuleNotFoundError as missing:
        extra = BACKEND_EXTRAS.get(missing.name or "", scheme)
        raise BroadcastUnavailable(
            f"the {scheme}:// broadcaster needs the {missing.name} package: "
            f"pip install 'broadcaster[{extra}]'"
        ) from None
    except ValueError:
        raise BroadcastUnavailable(
            f"unsupported broadcast URL {url!r}: use memory://, redis://host:port or postgres://…"
        ) from None


class BroadcastDeltas:
    """The runtime's live feed, published through the broadcaster as JSON text
    (what every broadcaster backend carries)."""

    def __init__(self, broadcast: Broadcast) -> None:
        self.broadcast = broadcast
        self._pending: set[asyncio.Task[None]] = set()

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        message = _encoder.encode({"kind": kind, **data}).decode()
        task = asyncio.get_running_loop().create_task(self.broadcast.publish(DELTAS, message))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


@contextlib.asynccontextmanager
async def relaying(broadcast: Broadcast, tail: LiveEvents, channel: str) -> AsyncIterator[None]:
    """Relay new events (published on ``channel``) and partial text from the
    broadcaster into the live tail while in the block (one subscription each,
    for the whole process)."""
    async with broadcast.subscribe(channel) as events, broadcast.subscribe(DELTAS) as deltas:
        tasks = [
            asyncio.create_task(
                _relay(events, lambda m: tail.append_events(decode_batch(m))),
                name="gateway: relay new events",
            ),
            asyncio.create_task(
                _relay(deltas, lambda m: tail.append_delta(delta_from_json(m))),
                name="gateway: relay partial text",
            ),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def _relay(subscriber: Any, append: Callable[[str], None]) -> None:
    while True:
        event = await subscriber.get()
        try:
            append(event.message)
        except msgspec.DecodeError:
            logger.warning("dropped a malformed message from the broadcaster")
