"""Reading the event log in order, decoded once for every projector."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from types import ModuleType
from typing import Any
from uuid import UUID

import msgspec
import psycopg

from domain.codec import (
    NUL_ESCAPE,
    STATE_DECODERS,
    PodiumEventType,
    event_class,
    state_decoder,
)
from domain.events import Payload, PodiumCreated, PodiumEvent
from domain.text import clean_text
from eventlog.postgres import EVENTS_TABLE

ERROR_LENGTH = 500  # of an error's description, as a fault stores it
Connection = psycopg.Connection[tuple[Any, ...]]
Cursor = psycopg.Cursor[tuple[Any, ...]]


class RecordedEvent(msgspec.Struct, frozen=True, gc=False):
    """One event of the log with its place in the global order.

    A struct rather than a named tuple: a rebuild makes millions, and a
    struct is made in a third of the time (and is no work for the GC).
    """

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


def events_of(module: ModuleType) -> frozenset[PodiumEventType]:
    """Every event class that a domain module (one kind of stream) defines."""
    return frozenset(
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, PodiumEvent | PodiumCreated)
        and value.__module__ == module.__name__
    )


@cache
def stream_type(cls: PodiumEventType) -> str:
    """'agent', 'session' or 'system_log': the domain module the event lives in."""
    return cls.__module__.rsplit(".", 1)[-1]


# The stream id comes as its 16 raw bytes: a log has few streams and many
# events, so each stream's UUID object is made once, not once per event.
SELECT_EVENTS = (
    "SELECT notification_id, uuid_send(originator_id), originator_version, topic, state "
    f"FROM {EVENTS_TABLE}"
)
_MAX_STREAM_IDS = 100_000
_stream_ids: dict[bytes, UUID] = {}


def stream_id(raw: bytes) -> UUID:
    """The (shared) UUID object for a stream id's 16 bytes."""
    known = _stream_ids.get(raw)
    if known is None:
        if len(_stream_ids) >= _MAX_STREAM_IDS:  # a bound, not a policy: forget them all
            _stream_ids.clear()
        known = _stream_ids[raw] = UUID(bytes=raw)
    return known


def read_events(
    conn: Connection,
    after: int,
    limit: int,
    until: int | None = None,
    unreadable: list[Unreadable] | None = None,
) -> list[RecordedEvent]:
    """Up to ``limit`` stored events with notification ids in (after, until], in
    order: the readable ones (the others in ``unreadable``, see ``decode_rows``)."""
    with conn.cursor(binary=True) as cur:
        cur.execute(*select_events(after, limit, until))
        return decode_rows(cur.fetchall(), unreadable)


def select_events(after: int, limit: int, until: int | None = None) -> tuple[str, list[int]]:
    """The query (and its parameters) for the raw rows ``decode_rows`` takes."""
    query = SELECT_EVENTS + " WHERE notification_id > %s"
    params = [after]
    if until is not None:
        query += " AND notification_id <= %s"
        params.append(until)
    return query + " ORDER BY notification_id LIMIT %s", [*params, limit]


def first_event(cur: Cursor, stream: UUID) -> RecordedEvent:
    """A stream's first event; LookupError when it has none, and the decoder's
    error (see ``domain.codec.decode_stored``) when it cannot be decoded."""
    cur.execute(SELECT_EVENTS + " WHERE originator_id = %s AND originator_version = 1", (stream,))
    row = cur.fetchone()
    if row is None:
        raise LookupError(f"stream {stream} has no first event")
    notification_id, raw_id, version, topic, state = row
    decoder = state_decoder(topic)
    stored = decoder.decode(bytes(state))
    return RecordedEvent(
        notification_id,
        stream_id(bytes(raw_id)),
        version,
        decoder.event_class,
        stored.timestamp,
        stored.payload,
    )


class Unreadable(msgspec.Struct, frozen=True):
    """A stored event that cannot be decoded at all, and why."""

    notification_id: int
    event_class: PodiumEventType | None  # None: its topic names no podium event
    error: str


def decode_rows(
    rows: Sequence[tuple[Any, ...]], unreadable: list[Unreadable] | None = None
) -> list[RecordedEvent]:
    """Decode (notification_id, stream id bytes, version, topic, state) rows.

    A row that cannot be decoded (see ``domain.codec.decode_stored``) is left
    out, and added to ``unreadable`` when given: one bad row must not keep
    anyone from reading the rest of the log.
    """
    events: list[RecordedEvent] = []
    append = events.append  # the loop runs once per event of every rebuild
    decoders = STATE_DECODERS
    for notification_id, raw_id, version, topic, state in rows:
        try:
            decoder = decoders.get(topic) or state_decoder(topic)
            # StateDecoder.decode's common case written out (clean state, its
            # payload at the latest version): this loop decodes every event of
            # every rebuild, and a call per event would be a tenth of its time.
            if state.rfind(NUL_ESCAPE) < 0:
                try:
                    stored = decoder.decode_json(state)
                except msgspec.DecodeError:
                    stored = decoder.decode(state)
            else:
                stored = decoder.decode(state)
            payload = stored.payload
            if not isinstance(payload, decoder.latest):
                payload = decoder.upcast(payload)  # an event recorded with an older schema
        except Exception as error:
            if unreadable is not None:
                unreadable.append(Unreadable(notification_id, _known_class(topic), describe(error)))
            continue
        append(
            RecordedEvent(
                notification_id,
                stream_id(raw_id),
                version,
                decoder.event_class,
                stored.timestamp,
                payload,
            )
        )
    return events


def last_read(events: list[RecordedEvent], unreadable: list[Unreadable]) -> int:
    """The notification id of the last stored event of a read (decoded or not)."""
    return max(
        events[-1].notification_id if events else 0,
        unreadable[-1].notification_id if unreadable else 0,
    )


def _known_class(topic: str) -> PodiumEventType | None:
    try:
        return event_class(topic)
    except Exception:
        return None


def describe(error: BaseException) -> str:
    """One line about an error, fit to be stored (what it quotes may be the poison)."""
    said = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {said[0]}" if said else type(error).__name__
    return clean_text(text)[:ERROR_LENGTH]


# The log's head: the last notification id (0 when empty). Ids commit in
# order (see eventlog.recorder), so nothing at or below it can appear later.
HEAD = f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"


def head(conn: Connection) -> int:
    """The last notification id in the log (0 when empty)."""
    row = conn.execute(HEAD).fetchone()
    return int(row[0]) if row else 0
