"""Import a checked export file (transfer.reading) in one transaction.

The events table is locked (EXCLUSIVE, as every insert of podium's takes it)
for the whole transaction, so what is compared is what is there when the
file's events are added. Stream by stream, the events the target already
holds must be the file's, byte for byte, as far as both go: then only the
file's events past the target's are added (none, when it was imported
before), and otherwise the file is refused, naming the stream, and nothing
is written. Events keep their stream ids, versions, topics and stored state;
they get the target's notification ids, in the source's order, so the read
models fold them as the source's did. (The runtime acts on what its
aggregates say is waiting, so a command the file shows done is not run
again on the target; one still waiting there is, as a resumed session's.)

Two kinds of event cannot keep their place:

- A summary (``EventSummarized``) names its event by notification id: it is
  added after the other streams, naming the target's id of the same event.
- The system log is one stream per day shared by all sessions: an entry
  that names the session is made again on today's stream, with its level,
  message and session, and its context plus ``imported`` (its source
  stream/version, which makes it once across imports) and ``source_time``
  (an entry imported before keeps its first source's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.domain import datetime_now_with_tzinfo
from eventsourcing.persistence import StoredEvent
from psycopg import sql

from domain.codec import MsgspecTranscoder, PayloadMapper
from domain.system_log import SystemLog, SystemLogged, SystemLoggedV1, system_log_id
from eventlog.postgres import EVENTS_TABLE
from eventlog.reading import Connection
from eventlog.recorder import (
    BinaryArray,
    BinaryArrayDumper,
    bytea_array,
    int8_array,
    text_array,
    uuid_array,
)
from transfer.export import STATE, SYSTEM_LOGGED
from transfer.format import EventLine, TransferRefused
from transfer.reading import Bundle, Progress
from transfer.transcripts import import_transcripts

BATCH = 1_000  # events per insert
IMPORTED = "imported"  # the context key of a re-made system log entry: "stream/version"
SOURCE_TIME = "source_time"
_APPEND = sql.SQL("SELECT * FROM {}(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[])").format(
    sql.Identifier(f"{EVENTS_TABLE}_append")
)
_mapper = PayloadMapper(MsgspecTranscoder())
Planned = tuple[EventLine, bytes]  # an event of the file, and the state it is stored with


@dataclass(frozen=True)
class Imported:
    """What an import added (all zero: the file was imported before)."""

    session_id: UUID
    events: int
    logged: int
    entries: int

    def line(self) -> str:
        if not (self.events or self.logged or self.entries):
            return f"session {self.session_id} is already here: nothing added"
        return (
            f"imported session {self.session_id}: {self.events:,} events, "
            f"{self.logged:,} system log entries, {self.entries:,} transcript entries"
        )


def import_bundle(conninfo: str, bundle: Bundle, progress: Progress | None = None) -> Imported:
    """Add what the file holds and the target lacks, in one transaction (on a
    migrated database: the insert function and ``podium_state`` are the schema's)."""
    with psycopg.connect(conninfo) as conn:
        conn.adapters.register_dumper(BinaryArray, BinaryArrayDumper)
        with conn.transaction():
            conn.execute(f"LOCK TABLE {EVENTS_TABLE} IN EXCLUSIVE MODE")
            writer = _Writer(conn, bundle, progress)
            events = writer.streams()
            logged = _remake_logged(conn, bundle)
            entries = import_transcripts(conn, bundle)
    return Imported(bundle.header.session_id, events, logged, entries)


class _Writer:
    def __init__(self, conn: Connection, bundle: Bundle, progress: Progress | None) -> None:
        self.conn = conn
        self.bundle = bundle
        self.progress = progress
        self.ids: dict[int, int] = {}  # the source's notification id -> the target's
        self.done = 0
        self.added = 0
        self.total = sum(len(lines) for lines in bundle.streams.values())

    def streams(self) -> int:
        """Compare and add every stream, the summaries last; how many events were added."""
        summaries = self.bundle.summaries_id
        missing: list[Planned] = []
        for stream_id, lines in self.bundle.streams.items():
            if stream_id != summaries:
                missing += self._missing(stream_id, [(line, line.stored) for line in lines])
        self._insert(sorted(missing, key=lambda planned: planned[0].notification_id))
        lines = self.bundle.streams.get(summaries, [])
        self._insert(self._missing(summaries, [(line, self._remapped(line)) for line in lines]))
        return self.added

    def _missing(self, stream_id: UUID, planned: list[Planned]) -> list[Planned]:
        """The file's events of the stream (with the state to store) past the target's,
        after checking that those the target holds are the file's."""
        present = self.conn.execute(
            f"SELECT originator_version, topic, state, notification_id FROM {EVENTS_TABLE} "
            "WHERE originator_id = %s ORDER BY originator_version",
            (stream_id,),
        ).fetchall()
        for (line, state), (version, topic, stored, notification_id) in zip(
            planned, present, strict=False
        ):
            if (line.version, line.topic, state) != (version, topic, bytes(stored)):
                raise TransferRefused(
                    f"stream {stream_id} is here with other events (version {version} differs): "
                    "nothing imported"
                )
            self.ids[line.notification_id] = notification_id
        self.done += min(len(planned), len(present))
        return planned[len(present) :]

    def _remapped(self, line: EventLine) -> bytes:
        """A summary's state naming the target's id of its event (known by now: the
        summaries stream is the last, and the file holds every summarized event)."""
        summary = self.bundle.summaries.get(line.notification_id)
        if summary is None:
            return line.stored
        state = msgspec.json.decode(line.stored)
        state["payload"]["notification_id"] = self.ids[summary.notification_id]
        return msgspec.json.encode(state)

    def _insert(self, planned: list[Planned]) -> None:
        for start in range(0, len(planned), BATCH):
            batch = planned[start : start + BATCH]
            ids = append(
                self.conn,
                [
                    StoredEvent(line.stream_id, line.version, line.topic, state)
                    for line, state in batch
                ],
            )
            self.ids.update(zip((line.notification_id for line, _ in batch), ids, strict=True))
            self.done += len(batch)
            self.added += len(batch)
            if self.progress is not None:
                self.progress(self.done, self.total)


def append(conn: Connection, events: Sequence[StoredEvent]) -> list[int]:
    """Insert events with podium's insert function (in the caller's transaction); their ids."""
    if not events:
        return []
    arrays = (
        uuid_array([e.originator_id for e in events]),
        int8_array([e.originator_version for e in events]),
        text_array([e.topic for e in events]),
        bytea_array([e.state for e in events]),
    )
    with conn.cursor(binary=True) as cur:
        cur.execute(_APPEND, arrays)
        return [int(row[0]) for row in cur.fetchall()]


def _remake_logged(conn: Connection, bundle: Bundle) -> int:
    """The file's system log entries that the target lacks, on today's stream."""
    # An entry imported before keeps the first source's key and time.
    wanted = {
        said.context.get(IMPORTED) or f"{line.stream_id}/{line.version}": stored
        for line, stored in bundle.logged
        if isinstance(said := stored.payload, SystemLoggedV1)
    }
    if not wanted:
        return 0
    there = {
        row[0]
        for row in conn.execute(
            f"SELECT {STATE} -> 'payload' -> 'context' ->> %s FROM {EVENTS_TABLE} "
            f"WHERE topic = %s AND {STATE} -> 'payload' ->> 'session_id' = %s",
            (IMPORTED, SYSTEM_LOGGED, str(bundle.header.session_id)),
        )
    }
    missing = [(key, stored) for key, stored in wanted.items() if key not in there]
    if not missing:
        return 0
    day = datetime.now(UTC).date()
    log_id = system_log_id(day)
    row = conn.execute(
        f"SELECT coalesce(max(originator_version), 0) FROM {EVENTS_TABLE} WHERE originator_id = %s",
        (log_id,),
    ).fetchone()
    version = int(row[0]) if row else 0
    events: list[Any] = [] if version else list(SystemLog.open(day).collect_events())
    version = version or 1
    for key, stored in missing:
        said = stored.payload
        assert isinstance(said, SystemLoggedV1)
        source_time = said.context.get(SOURCE_TIME) or stored.timestamp.isoformat()
        context = {**said.context, IMPORTED: key, SOURCE_TIME: source_time}
        version += 1
        payload = SystemLoggedV1(
            level=said.level, message=said.message, context=context, session_id=said.session_id
        )
        events.append(
            SystemLogged(
                originator_id=log_id,
                originator_version=version,
                timestamp=datetime_now_with_tzinfo(),
                payload=payload,
            )
        )
    append(conn, [_mapper.to_stored_event(event) for event in events])
    return len(missing)
