"""The live log: new events, encoded once, fanned out to every open stream.

One tailer per gateway process follows the log (LISTEN/NOTIFY on the events
table, like every other consumer) and publishes each event to the
broadcaster once. Several gateways on one database each tail it themselves;
ephemeral partial text from runtimes, which is never stored, travels through
the broadcaster alone (use a postgres:// or redis:// broadcast URL to carry it
between processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from broadcaster import Broadcast
from psycopg import sql

from domain.application import EVENTS_TABLE
from gateway.event_json import Routed, routed, view_of
from projections.directory import AgentDirectory
from projections.log import SELECT_EVENTS, Connection, decode_rows, head, read_events

log = logging.getLogger(__name__)
CHANNEL = "podium"
PAGE = 1_000


class Delta(msgspec.Struct, frozen=True):
    """Partial text as it streams: for live viewers only."""

    kind: str
    session_id: str
    agent_id: str
    body: bytes


def read_routed(conninfo: str, after: int, limit: int = PAGE) -> list[Routed]:
    """Events after ``after``, each encoded as the browser sees it."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return routed_after(conn, AgentDirectory(), after, limit)


def session_page(
    conninfo: str, session_id: UUID, after: int, limit: int
) -> tuple[list[Routed], int]:
    """A page of one session's events (its own stream and its agents'), and the
    notification id up to which the page is complete.

    One snapshot: the agents read model as far as it has applied the log, and
    only events up to that point, so an agent created later cannot have its
    events skipped by a page computed before it was known.
    """
    with psycopg.connect(conninfo) as conn, conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        applied = conn.execute(
            "SELECT notification_id FROM projection_tracking WHERE projection = 'agents'"
        ).fetchone()
        until = int(applied[0]) if applied else 0
        streams = [session_id] + [
            row[0]
            for row in conn.execute(
                "SELECT agent_id FROM agents WHERE session_id = %s", (session_id,)
            )
        ]
        with conn.cursor(binary=True) as cur:
            cur.execute(
                SELECT_EVENTS + " WHERE notification_id > %s AND notification_id <= %s "
                "AND originator_id = ANY(%s) ORDER BY notification_id LIMIT %s",
                (after, until, streams, limit),
            )
            events = decode_rows(cur.fetchall())
        directory = AgentDirectory()
        directory.learn(events)
        with conn.cursor() as cur:
            page = [routed(view_of(event, directory, cur)) for event in events]
    return page, until


def routed_after(
    conn: Connection, directory: AgentDirectory, after: int, limit: int = PAGE
) -> list[Routed]:
    events = read_events(conn, after, limit)
    directory.learn(events)
    with conn.cursor() as cur:
        return [routed(view_of(event, directory, cur)) for event in events]


class LogFeed:
    def __init__(self, conninfo: str, broadcast: Broadcast) -> None:
        self.conninfo = conninfo
        self.broadcast = broadcast
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
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lost the log; reconnecting")
                await asyncio.sleep(1)

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
        async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(EVENTS_TABLE)))
            while True:
                while batch := await asyncio.to_thread(
                    routed_after, reader, directory, self.position
                ):
                    # One message per batch: each viewer wakes once, not once per event.
                    await self.broadcast.publish(CHANNEL, tuple(batch))
                    self.position = batch[-1].id
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        async for _ in conn.notifies():
                            break


class BroadcastDeltas:
    """The runtime's live feed, published through the broadcaster."""

    def __init__(self, broadcast: Broadcast) -> None:
        self.broadcast = broadcast
        self._pending: set[asyncio.Task[None]] = set()

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        delta = Delta(
            kind,
            str(data.get("session_id", "")),
            str(data.get("agent_id", "")),
            msgspec.json.encode({"kind": kind, **data}),
        )
        task = asyncio.get_running_loop().create_task(self.broadcast.publish(CHANNEL, delta))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
