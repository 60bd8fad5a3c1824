"""The live log: new events, encoded once, for every open stream.

One tailer per gateway process follows the log (LISTEN/NOTIFY on the events
table, like every other consumer) and appends each batch of new events,
encoded once, to the process's live tail, which its viewers read. Several
gateways on one database each tail the log themselves: the log is the only
truth, and it reaches every gateway from PostgreSQL.

What is not in the log, the partial text runtimes stream while a model
writes, travels through the broadcaster: runtimes publish it, and each
gateway relays it into its live tail (a redis:// broadcast URL carries it
between processes and machines; memory:// within one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from broadcaster import Broadcast
from eventsourcing.utils import get_topic
from psycopg_pool import ConnectionPool

from domain.system_log import SystemLogged
from gateway.event_json import Routed, routed, view_of
from gateway.live_tail import LiveTail, delta_from_json
from projections.directory import AgentDirectory
from projections.following import keep_following, listening
from projections.log import SELECT_EVENTS, Connection, decode_rows, head, read_events

log = logging.getLogger(__name__)
_encoder = msgspec.json.Encoder()
DELTAS = "podium-deltas"
PAGE = 1_000


LogReads = ConnectionPool[psycopg.Connection[tuple[Any, ...]]]


def log_reads(conninfo: str) -> LogReads:
    """The connections a gateway reads pages of the log on (opened by the caller):
    kept open, because a new connection costs more than reading a page."""
    return ConnectionPool(conninfo, min_size=1, max_size=4, open=False, name="gateway log reads")


def read_routed(reads: LogReads, after: int, limit: int = PAGE) -> list[Routed]:
    """Events after ``after``, each encoded as the browser sees it."""
    with reads.connection() as conn:
        return routed_after(conn, AgentDirectory(), after, limit)


SYSTEM_LOGGED = get_topic(SystemLogged)
# A system log entry that names the session (the JSON is parsed for those only).
NAMES_THE_SESSION = (
    f"(topic = '{SYSTEM_LOGGED}' "
    "AND convert_from(state, 'UTF8')::jsonb -> 'payload' ->> 'session_id' = %s)"
)


def session_page(
    reads: LogReads, session_id: UUID, after: int, limit: int
) -> tuple[list[Routed], int]:
    """A page of one session's events (its own stream, its agents' and the system
    log entries that name it: what its live stream carries), and the
    notification id up to which the page is complete.

    One snapshot: the agents read model as far as it has applied the log, and
    only events up to that point, so an agent created later cannot have its
    events skipped by a page computed before it was known.
    """
    with reads.connection() as conn, conn.transaction():
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
                f"AND (originator_id = ANY(%s) OR {NAMES_THE_SESSION}) "
                "ORDER BY notification_id LIMIT %s",
                (after, until, streams, str(session_id), limit),
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
    """Follows the log from where it stands at start, into the live tail."""

    def __init__(self, conninfo: str, tail: LiveTail) -> None:
        self.conninfo = conninfo
        self.tail = tail
        self.position = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.position = await asyncio.to_thread(self._head)
        self.tail.start_at(self.position)
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
                while batch := await asyncio.to_thread(
                    routed_after, reader, directory, self.position
                ):
                    # One entry per batch: each viewer wakes once, not once per event.
                    self.tail.append_events(batch)
                    self.position = batch[-1].id
                await appends.wait()


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
async def relaying_deltas(broadcast: Broadcast, tail: LiveTail) -> AsyncIterator[None]:
    """Relay the broadcaster's partial text into the live tail while in the block."""
    async with broadcast.subscribe(DELTAS) as deltas:

        async def relay() -> None:
            while True:
                event = await deltas.get()
                try:
                    tail.append_delta(delta_from_json(event.message))
                except msgspec.DecodeError:
                    log.warning("dropped a malformed delta from the broadcaster")

        task = asyncio.create_task(relay(), name="gateway: relay partial text")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
