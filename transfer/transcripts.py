"""Importing Claude transcripts (runtime/session_store.py's tables), as exported.

A transcript the target lacks is added with its rows as they were (seq,
uuid, entry text, mtime, folded summary), so the Agent SDK resumes it there
as it would have here. One the target holds must agree, entry for entry, as
far as both go; entries past the target's are appended (and the
transcript's mtime and summary become the file's); one that disagrees
refuses the whole file.
"""

from __future__ import annotations

from eventlog.reading import Connection
from transfer.format import EntryLine, TranscriptLine, TransferRefused
from transfer.reading import Bundle

_KEY = "project_key = %s AND session_id = %s AND subpath = %s"
_ROW = (
    "INSERT INTO claude_transcripts (project_key, session_id, subpath, last_seq, updated_at, "
    "summary) VALUES (%s, %s, %s, 0, %s, NULL) ON CONFLICT DO NOTHING"
)
_ENTRIES = (
    "INSERT INTO claude_transcript_entries (project_key, session_id, subpath, seq, uuid, entry) "
    "SELECT %s, %s, %s, e.seq, e.uuid, e.entry "
    "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS e (seq, uuid, entry)"
)
_STAMP = (
    "UPDATE claude_transcripts SET last_seq = %s, summary = %s, "
    f"updated_at = greatest(updated_at, %s) WHERE {_KEY}"
)


def import_transcripts(conn: Connection, bundle: Bundle) -> int:
    """Add the file's transcript entries the target lacks; how many were added."""
    added = 0
    for key, transcript in bundle.transcripts.items():
        added += _import(conn, transcript, bundle.entries.get(key, []))
    return added


def _import(conn: Connection, transcript: TranscriptLine, entries: list[EntryLine]) -> int:
    key = transcript.key
    present = conn.execute(
        f"SELECT seq, uuid, entry FROM claude_transcript_entries WHERE {_KEY} ORDER BY seq", key
    ).fetchall()
    for entry, there in zip(entries, present, strict=False):
        if (entry.seq, entry.uuid, entry.entry) != tuple(there):
            raise TransferRefused(
                f"transcript {transcript.session_id} {transcript.subpath or '(main)'} is here "
                f"with other entries (entry {there[0]} differs): nothing imported"
            )
    rest = entries[len(present) :]
    if not rest:
        return 0
    conn.execute(_ROW, (*key, transcript.updated_at))
    conn.execute(
        _ENTRIES,
        (
            *key,
            [entry.seq for entry in rest],
            [entry.uuid for entry in rest],
            [entry.entry for entry in rest],
        ),
    )
    conn.execute(_STAMP, (transcript.last_seq, transcript.summary, transcript.updated_at, *key))
    return len(rest)
