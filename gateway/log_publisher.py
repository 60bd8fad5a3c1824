"""The live log: new events, encoded once, fanned out to every open stream.

One publisher per gateway process follows the log (LISTEN/NOTIFY on the
events table, like every other consumer) and publishes each batch of new
events, read through the gateway's log view (projections.event_view),
through the broadcaster (gateway/broadcast.py), from which the process's
live tail takes it for its viewers. Several gateways on one database each
follow the log themselves: the log is the only truth, and it reaches every
gateway from PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
from broadcaster import Broadcast

from eventlog.following import keep_following, listening
from eventlog.reading import Connection
from gateway.broadcast import encode_batch
from projections.event_view import LogReader, LogView


class LogPublisher:
    """Follows the log from where it stands at start, publishing what is appended
    on ``channel``."""

    def __init__(self, log_view: LogView, broadcast: Broadcast, channel: str) -> None:
        self.log_view = log_view
        self.broadcast = broadcast
        self.channel = channel
        self.position = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.position = await asyncio.to_thread(self.log_view.head)
        self._task = asyncio.create_task(self._follow(), name="gateway: follow the log")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _connect(self) -> Connection:
        return psycopg.connect(self.log_view.conninfo, autocommit=True)

    async def _follow(self) -> None:
        await keep_following(self._listen, "the gateway's feed")

    async def _listen(self) -> None:
        # One connection and one reader for the feed's whole life: a batch costs
        # one query, not a connection and a lookup per agent.
        conn = await asyncio.to_thread(self._connect)
        try:
            await self._publish_as_appended(conn, LogReader())
        finally:
            conn.close()

    async def _publish_as_appended(self, conn: Connection, reader: LogReader) -> None:
        async with listening(self.log_view.conninfo, "podium gateway feed") as appends:
            while True:
                while batch := await asyncio.to_thread(self._read_after, conn, reader):
                    # One message per batch: each viewer wakes once, not once per event.
                    last_id, message = batch
                    await self.broadcast.publish(self.channel, message)
                    self.position = last_id
                await appends.wait()

    def _read_after(self, conn: Connection, reader: LogReader) -> tuple[int, str] | None:
        """The next batch, encoded for the broadcaster (off the event loop), and its last id."""
        batch = reader.after(conn, self.position)
        return (batch[-1].id, encode_batch(batch)) if batch else None
