"""The log as the browser sees it: each event encoded once, in pages and as appended.

This is the gateway's one view of the log. Every event, paged or live, has
the same JSON shape (``EventView``); the fields a stream filters on
(session, agent, category) travel beside the JSON (``Routed``), so fan-out
filters without decoding anything. ``LogView`` reads it: pages of the whole
log (a stream's backlog), pages of one session (replay), the log's head, and
a ``LogReader`` that follows what is appended (the live feed, ``podium
events``).

Who an agent is comes from the log itself (``projections.directory``), never
from a read model, except where a session's page must agree with the agents
read model's snapshot (see ``LogView.session_page``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic
from psycopg_pool import ConnectionPool

from domain.categories import category_of
from domain.events import Payload
from domain.summarizer import summaries_id
from domain.system_log import SystemLogged
from domain.vocabulary import Category
from eventlog.pool_checks import sweep_dead_connections
from eventlog.reading import (
    SELECT_EVENTS,
    Connection,
    Cursor,
    RecordedEvent,
    decode_rows,
    head,
    read_events,
)
from projections.directory import OWNED_STREAMS, AgentDirectory
from projections.summary import summarize

PAGE = 1_000


class EventView(msgspec.Struct, frozen=True):
    id: int
    stream_id: UUID
    stream_type: str
    version: int
    type: str
    at: datetime
    session_id: UUID | None
    agent: str | None
    category: Category
    summary: str
    payload: Payload


_encoder = msgspec.json.Encoder()


def view_of(event: RecordedEvent, directory: AgentDirectory, cur: Cursor) -> EventView:
    owned = event.stream_type in OWNED_STREAMS
    agent = directory.lookup(cur, event.stream_id).name if owned else None
    return EventView(
        id=event.notification_id,
        stream_id=event.stream_id,
        stream_type=event.stream_type,
        version=event.version,
        type=event.event_type,
        at=event.timestamp,
        session_id=directory.session_of(cur, event),
        agent=agent,
        category=category_of(event.event_class),
        summary=summarize(event.payload),
        payload=event.payload,
    )


class Routed(msgspec.Struct, frozen=True):
    """An encoded event with the fields a stream filters on."""

    id: int
    session_id: str
    agent: str
    category: str
    body: bytes

    def matches(self, session: str | None, agent: str | None, category: str | None) -> bool:
        return (
            (session is None or self.session_id == session)
            and (agent is None or self.agent.lower() == agent.lower())
            and (category is None or self.category == category)
        )


def routed(view: EventView) -> Routed:
    return Routed(
        view.id,
        str(view.session_id or ""),
        view.agent or "",
        view.category.value,
        _encoder.encode(view),
    )


SYSTEM_LOGGED = get_topic(SystemLogged)
# A system log entry that names the session (the JSON is parsed for those only).
NAMES_THE_SESSION = (
    f"(topic = '{SYSTEM_LOGGED}' "
    "AND convert_from(state, 'UTF8')::jsonb -> 'payload' ->> 'session_id' = %s)"
)


class LogView:
    """The gateway's reads of the log, on a kept pool of connections.

    Kept open, because a new connection costs more than reading a page;
    each connection is checked (one empty query) as it is handed out,
    because a kept one may have died with a PostgreSQL restart since it was
    last used. ``with LogView(conninfo) as view:`` opens and closes it.
    """

    def __init__(self, conninfo: str, max_size: int = 4) -> None:
        self.conninfo = conninfo
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            conninfo, min_size=1, max_size=max_size, open=False, name="gateway log view"
        )
        sweep_dead_connections(self._pool)

    def open(self) -> None:
        self._pool.open(wait=True)

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> LogView:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def connection(self) -> AbstractContextManager[Connection]:
        """A connection of the pool, for the read side's other reads (a context manager)."""
        return self._pool.connection()

    def head(self) -> int:
        """The last notification id in the log (0 when empty)."""
        with self._pool.connection() as conn:
            return head(conn)

    def page_after(self, after: int, limit: int = PAGE) -> list[Routed]:
        """Events after ``after``, each encoded as the browser sees it."""
        with self._pool.connection() as conn:
            return LogReader().after(conn, after, limit)

    def session_page(self, session_id: UUID, after: int, limit: int) -> tuple[list[Routed], int]:
        """A page of one session's events (its own stream, its agents', their
        approval requests', its summaries and the system log entries that name
        it: what its live stream carries), and the notification id up to which the page is
        complete.

        One snapshot: the agents and approvals read models as far as both have
        applied the log, and only events up to that point, so an agent or a
        request made later cannot have its events skipped by a page computed
        before it was known.
        """
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            applied = conn.execute(
                "SELECT min(notification_id) FROM projection_tracking "
                "WHERE projection IN ('agents', 'approvals')"
            ).fetchone()
            until = int(applied[0]) if applied and applied[0] is not None else 0
            streams = [session_id, summaries_id(session_id)] + [
                row[0]
                for row in conn.execute(
                    "SELECT agent_id FROM agents WHERE session_id = %s "
                    "UNION ALL SELECT id FROM approvals WHERE session_id = %s",
                    (session_id, session_id),
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
            return [routed(view) for view in LogReader().views_of(conn, events)], until


class LogReader:
    """Reads the log after a position, again and again, as it grows.

    One agent directory for the reader's whole life: a batch costs one
    query, not a lookup per agent.
    """

    def __init__(self) -> None:
        self._directory = AgentDirectory()

    def views_after(self, conn: Connection, position: int, limit: int = PAGE) -> list[EventView]:
        """The events after ``position`` as the browser sees them, not yet encoded."""
        return self.views_of(conn, read_events(conn, position, limit))

    def views_of(self, conn: Connection, events: list[RecordedEvent]) -> list[EventView]:
        """``events`` (in log order) as the browser sees them; ``conn`` finds the agents
        whose creation they do not include."""
        self._directory.learn(events)
        with conn.cursor() as cur:
            return [view_of(event, self._directory, cur) for event in events]

    def after(self, conn: Connection, position: int, limit: int = PAGE) -> list[Routed]:
        """The events after ``position``, each encoded as the browser sees it."""
        return [routed(view) for view in self.views_after(conn, position, limit)]
