"""Pages of the log as the browser sees them, read on a kept pool of connections.

A page is a run of events after a notification id, each encoded once
(gateway/event_json.py): the whole log for a stream's backlog, or one
session's events for replay.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic
from psycopg_pool import ConnectionPool

from domain.system_log import SystemLogged
from eventlog.pool_checks import sweep_dead_connections
from eventlog.reading import SELECT_EVENTS, Connection, decode_rows, read_events
from gateway.event_json import Routed, routed, view_of
from projections.directory import AgentDirectory

PAGE = 1_000


LogReads = ConnectionPool[psycopg.Connection[tuple[Any, ...]]]


def log_reads(conninfo: str) -> LogReads:
    """The connections a gateway reads pages of the log on (opened by the caller):
    kept open, because a new connection costs more than reading a page, and
    checked (one empty query) as each is handed out, because a kept connection
    may have died with a PostgreSQL restart since it was last used."""
    pool: LogReads = ConnectionPool(
        conninfo, min_size=1, max_size=4, open=False, name="gateway log reads"
    )
    sweep_dead_connections(pool)
    return pool


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
