"""Export a session: its streams and its Claude transcripts, as the lines of a file.

Everything is read in one REPEATABLE READ snapshot, so the file is one
moment of the log: a summary never names an event the file lacks, and the
header's counts are those of the lines that follow. The session's streams
are found from the log itself (an agent's and an approval request's first
event names its session), not from a read model that may trail it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic

from domain import agent, session
from domain.approval import ApprovalRequested
from domain.summarizer import summaries_id
from domain.system_log import SystemLogged
from eventlog.postgres import EVENTS_TABLE
from eventlog.reading import Connection
from transfer.format import (
    FORMAT,
    VERSION,
    EntryLine,
    EventLine,
    Header,
    TranscriptLine,
    TransferRefused,
    holds_as_json,
    line_of,
)

BATCH = 2_000  # rows fetched at a time from the server-side cursors
SYSTEM_LOGGED = get_topic(SystemLogged)
FIRST_EVENTS = [get_topic(agent.AgentCreated), get_topic(ApprovalRequested)]
TURNS = [get_topic(agent.TurnCompleted), get_topic(session.TurnCompleted)]
STATE = "podium_state(state, false)"  # sql/events.sql: the stored state as jsonb, never an error

# The session's streams but the system log: its own, its summaries', and
# those whose first event names it (its agents', its approval requests').
_OWNED_STREAMS = (
    f"SELECT originator_id FROM {EVENTS_TABLE} "
    f"WHERE originator_version = 1 AND topic = ANY(%s) "
    f"AND {STATE} -> 'payload' ->> 'session_id' = %s"
)
# The session's events: its streams', and the system log entries that name it.
_OF_THE_SESSION = (
    f"FROM {EVENTS_TABLE} WHERE originator_id = ANY(%(streams)s) OR (topic = %(logged)s "
    f"AND {STATE} -> 'payload' ->> 'session_id' = %(session)s)"
)
_CLAUDE_SESSIONS = (
    f"SELECT DISTINCT {STATE} -> 'payload' ->> 'claude_session_id' FROM {EVENTS_TABLE} "
    "WHERE originator_id = ANY(%s) AND topic = ANY(%s)"
)
_TRANSCRIPTS = (
    "SELECT project_key, session_id, subpath, last_seq, updated_at, summary "
    "FROM claude_transcripts WHERE session_id = ANY(%s) ORDER BY 1, 2, 3"
)
_ENTRIES = (
    "SELECT e.project_key, e.session_id, e.subpath, e.seq, e.uuid, e.entry "
    "FROM claude_transcript_entries e WHERE e.session_id = ANY(%s) ORDER BY 1, 2, 3, 4"
)


def export_session(conn: Connection, session_id: UUID) -> Iterator[bytes]:
    """The export file's lines, header first. ``conn`` must not be in a transaction;
    TransferRefused when there is no such session."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        found = conn.execute(
            f"SELECT topic FROM {EVENTS_TABLE} WHERE originator_id = %s AND originator_version = 1",
            (session_id,),
        ).fetchone()
        if found is None or found[0] != get_topic(session.SessionStarted):
            raise TransferRefused(f"no session with id {session_id}")
        streams = [session_id, summaries_id(session_id)] + [
            row[0] for row in conn.execute(_OWNED_STREAMS, (FIRST_EVENTS, str(session_id)))
        ]
        claude_sessions = [
            row[0] for row in conn.execute(_CLAUDE_SESSIONS, (streams, TURNS)) if row[0]
        ]
        params = {"streams": streams, "logged": SYSTEM_LOGGED, "session": str(session_id)}
        yield line_of(_header(conn, session_id, params, claude_sessions))
        events = "SELECT originator_id, originator_version, topic, notification_id, state "
        for row in _rows(conn, events + _OF_THE_SESSION + " ORDER BY notification_id", params):
            yield line_of(event_line(*row))
        for row in conn.execute(_TRANSCRIPTS, (claude_sessions,)):
            yield line_of(TranscriptLine(*row))
        for row in _rows(conn, _ENTRIES, (claude_sessions,)):
            yield line_of(EntryLine(*row))


def event_line(
    stream_id: UUID, version: int, topic: str, notification_id: int, state: bytes
) -> EventLine:
    state = bytes(state)
    if holds_as_json(state):
        return EventLine(stream_id, version, topic, notification_id, state=msgspec.Raw(state))
    return EventLine(stream_id, version, topic, notification_id, state_base64=state)


def _header(
    conn: Connection, session_id: UUID, params: dict[str, Any], claude_sessions: list[str]
) -> Header:
    def count(query: str, args: Any) -> int:
        row = conn.execute(query, args).fetchone()
        return int(row[0]) if row else 0

    return Header(
        format=FORMAT,
        version=VERSION,
        session_id=session_id,
        exported_at=datetime.now(UTC),
        source_head=count(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}", ()),
        events=count("SELECT count(*) " + _OF_THE_SESSION, params),
        transcripts=count(
            "SELECT count(*) FROM claude_transcripts WHERE session_id = ANY(%s)", (claude_sessions,)
        ),
        entries=count(
            "SELECT count(*) FROM claude_transcript_entries WHERE session_id = ANY(%s)",
            (claude_sessions,),
        ),
    )


def _rows(conn: Connection, query: str, params: Any) -> Iterator[tuple[Any, ...]]:
    """The query's rows, fetched BATCH at a time (a session may be large)."""
    with conn.cursor(name="podium_export") as cur:
        cur.itersize = BATCH
        cur.execute(query, params)
        yield from cur
