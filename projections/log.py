"""Reading the event log in order, decoded once for every projector."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

import psycopg

from domain.application import EVENTS_TABLE
from domain.codec import PodiumEventType, decode_state, event_class
from domain.events import Payload

Connection = psycopg.Connection[tuple[Any, ...]]
Cursor = psycopg.Cursor[tuple[Any, ...]]


class RecordedEvent(NamedTuple):
    """One event of the log with its place in the global order."""

    notification_id: int
    stream_id: UUID
    version: int
    event_class: PodiumEventType
    timestamp: datetime
    payload: Payload

    @property
    def event_type(self) -> str:
        return self.event_class.__name__

    @property
    def stream_type(self) -> str:
        return stream_type(self.event_class)


@cache
def stream_type(cls: PodiumEventType) -> str:
    """'agent', 'session' or 'system_log': the domain module the event lives in."""
    return cls.__module__.rsplit(".", 1)[-1]


_SELECT = (
    f"SELECT notification_id, originator_id, originator_version, topic, state "
    f"FROM {EVENTS_TABLE} WHERE notification_id > %s"
)


def read_events(
    conn: Connection,
    after: int,
    limit: int,
    until: int | None = None,
) -> list[RecordedEvent]:
    """Up to ``limit`` events with notification ids in (after, until], in order."""
    query = _SELECT
    params: list[int] = [after]
    if until is not None:
        query += " AND notification_id <= %s"
        params.append(until)
    query += " ORDER BY notification_id LIMIT %s"
    params.append(limit)
    with conn.cursor(binary=True) as cur:
        cur.execute(query, params)
        return decode_rows(cur.fetchall())


def decode_rows(rows: Sequence[tuple[Any, ...]]) -> list[RecordedEvent]:
    """Decode (notification_id, stream_id, version, topic, state) rows."""
    events = []
    for notification_id, stream_id, version, topic, state in rows:
        envelope = decode_state(topic, bytes(state))
        events.append(
            RecordedEvent(
                notification_id,
                stream_id,
                version,
                event_class(topic),
                envelope.timestamp,
                envelope.payload,
            )
        )
    return events


def head(conn: Connection) -> int:
    """The last notification id in the log (0 when empty)."""
    row = conn.execute(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}").fetchone()
    return int(row[0]) if row else 0
