"""The live log: new events, encoded once, fanned out to every open stream.

One tailer per gateway process follows the log (LISTEN/NOTIFY on the events
table, like every other consumer) and publishes each batch of new events,
encoded once, through the broadcaster (gateway/broadcast.py), from which the
process's live tail takes it for its viewers. Several gateways on one
database each tail the log themselves: the log is the only truth, and it
reaches every gateway from PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
from broadcaster import Broadcast

from eventlog.following import keep_following, listening
from eventlog.reading import Connection, head
from gateway.broadcast import encode_batch
from gateway.log_pages import routed_after
from projections.directory import AgentDirectory


class LogPublisher:
    """Follows the log from where it stands at start, publishing what is appended
    on ``channel``."""

    def __init__(self, conninfo: str, broadcast: Broadcast, channel: str) -> None:
        self.conninfo = conninfo
        self.broadcast = broadcast
        self.channel = channel
        self.position = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.position = await asyncio.to_thread(self._head)
        self._task = asyncio.create_task(self._follow(), name="gateway: follow the log")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _connect(self) -> Connection:
        return psycopg.connect(self.conninfo, autocommit=True)

    def _head(self) -> int:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            return head(conn)

    async def _follow(self) -> None:
        await keep_following(self._listen, "the gateway's feed")

    async def _listen(self) -> None:
        # One connection and one agent directory for the feed's whole life: a
        # batch costs one query, not a connection and a lookup per agent.
        directory = AgentDirectory()
        reader: Connection = await asyncio.to_thread(self._connect)
        try:
            await self._publish_as_appended(reader, directory)
        finally:
            reader.close()

    async def _publish_as_appended(self, reader: Connection, directory: AgentDirectory) -> None:
        async with listening(self.conninfo, "podium gateway feed") as appends:
            while True:
                while batch := await asyncio.to_thread(self._read_after, reader, directory):
                    # One message per batch: each viewer wakes once, not once per event.
                    last_id, message = batch
                    await self.broadcast.publish(self.channel, message)
                    self.position = last_id
                await appends.wait()

    def _read_after(self, reader: Connection, directory: AgentDirectory) -> tuple[int, str] | None:
        """The next batch, encoded for the broadcaster (off the event loop), and its last id."""
        batch = routed_after(reader, directory, self.position)
        return (batch[-1].id, encode_batch(batch)) if batch else None
