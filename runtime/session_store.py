"""Claude transcripts in PostgreSQL: the Agent SDK's ``SessionStore`` on a psycopg pool.

The SDK mirrors every line the CLI writes to a session's JSONL transcript into
the store (``append``), and with ``ClaudeAgentOptions(resume=..., session_store=...)``
it rebuilds the transcript from the store before it starts the CLI (``load``,
``list_subkeys``), so a session resumes on a machine whose ``HOME`` is empty.
Keeping transcripts next to the event store means an agent's whole state lives
in one database.

Tables (``sql/session_store.sql``): ``claude_transcripts`` has one row per
transcript (a session's main transcript or one subagent's), which appends lock
to keep a total order, and which carries the mtime and the session summary;
``claude_transcript_entries`` has one row per transcript line, as JSON text.

Guarantees:

- Entries come back deep-equal and in order, and more: each is stored as the
  compact JSON text of the entry given, so key order and number spelling
  survive (``1.0`` stays a float), and so does ``\\u0000`` (jsonb rejects it).
- An append is one transaction. Appends to the same transcript are serialised
  by a row lock, so concurrent appends, from any process, never fail or
  interleave: each batch is contiguous, in commit order.
- Entries with a ``uuid`` are stored once per transcript: the SDK retries a
  failed batch, and a batch whose commit landed but whose reply was lost must
  not be stored twice. Entries without one are appended as they come.
- ``mtime`` is the storage write time in epoch milliseconds, strictly
  increasing per transcript; a session summary's ``mtime`` is its session's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from claude_agent_sdk import (
    SessionKey,
    SessionListSubkeysKey,
    SessionStore,
    SessionStoreEntry,
    SessionStoreListEntry,
    SessionSummaryEntry,
    fold_session_summary,
)
from psycopg import AsyncConnection
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from eventlog.pool_checks import sweep_dead_async_connections

MAIN = ""
"""The ``subpath`` column's value for a session's main transcript."""

# Epoch milliseconds of a timestamptz, floored like a file mtime.
_MS = "floor(extract(epoch FROM {}) * 1000)::bigint"

# Take the transcript's row lock, creating the row on the first append. The
# no-op DO UPDATE is what locks an existing row; a concurrent first append
# waits for this one's insert instead of failing on the primary key.
_LOCK = """
INSERT INTO claude_transcripts AS t (project_key, session_id, subpath, updated_at)
VALUES (%s, %s, %s, clock_timestamp())
ON CONFLICT (project_key, session_id, subpath) DO UPDATE SET last_seq = t.last_seq
RETURNING t.last_seq, t.summary, """ + _MS.format("t.updated_at")

# Store the batch after last_seq, skipping uuids the transcript already holds.
_INSERT = """
INSERT INTO claude_transcript_entries (project_key, session_id, subpath, seq, uuid, entry)
SELECT %s, %s, %s, %s + e.ord, e.uuid, e.entry
FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS e(uuid, entry, ord)
ORDER BY e.ord
ON CONFLICT (project_key, session_id, subpath, uuid) WHERE uuid IS NOT NULL DO NOTHING
RETURNING seq
"""

# clock_timestamp(), not now(): an append that waited for the lock must not be
# stamped with the time its transaction began, earlier than the append it
# waited for. The +1 ms keeps back-to-back appends distinct at ms resolution.
_STAMP = """
UPDATE claude_transcripts
SET last_seq = %s, summary = %s,
    updated_at = greatest(clock_timestamp(), updated_at + interval '1 millisecond')
WHERE project_key = %s AND session_id = %s AND subpath = %s
"""

_LOAD = """
SELECT entry FROM claude_transcript_entries
WHERE project_key = %s AND session_id = %s AND subpath = %s
ORDER BY seq
"""

_LIST_SESSIONS = (
    "SELECT session_id, " + _MS.format("updated_at") + " FROM claude_transcripts "
    "WHERE project_key = %s AND subpath = ''"
)

_LIST_SUMMARIES = (
    "SELECT session_id, " + _MS.format("updated_at") + ", summary FROM claude_transcripts "
    "WHERE project_key = %s AND subpath = '' AND summary IS NOT NULL"
)

_LIST_SUBKEYS = """
SELECT subpath FROM claude_transcripts
WHERE project_key = %s AND session_id = %s AND subpath <> ''
ORDER BY subpath
"""

# Entries go with their transcripts (ON DELETE CASCADE).
_DELETE_SESSION = "DELETE FROM claude_transcripts WHERE project_key = %s AND session_id = %s"
_DELETE_SUBKEY = (
    "DELETE FROM claude_transcripts WHERE project_key = %s AND session_id = %s AND subpath = %s"
)


class PostgresSessionStore(SessionStore):
    """The SDK's ``SessionStore`` on PostgreSQL; implements every optional method.

    Give it to the SDK as ``ClaudeAgentOptions(session_store=store)``. The
    tables come from ``sql/session_store.sql`` (run by the schema migration).
    The pool may be shared with other code: every call borrows a connection
    for one transaction and reads rows as tuples whatever the pool's row
    factory.
    """

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        """Use ``pool``; the caller keeps it and closes it."""
        self._pool = pool
        self._owns_pool = False

    @classmethod
    async def open(cls, conninfo: str, **pool_kwargs: Any) -> PostgresSessionStore:
        """A store with a pool of its own, connected before this returns.

        ``pool_kwargs`` go to ``AsyncConnectionPool`` (``min_size``,
        ``max_size``, ``name``…). ``close()`` closes this pool.
        """
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(conninfo, open=False, **pool_kwargs)
        sweep_dead_async_connections(pool)  # no dead connection after a PostgreSQL restart
        # Waiting for the first connections surfaces a bad conninfo here,
        # not in the middle of an agent's turn.
        await pool.open(wait=True)
        store = cls(pool)
        store._owns_pool = True
        return store

    async def close(self) -> None:
        """Close the pool if ``open()`` made it; a caller's pool is left alone."""
        if self._owns_pool:
            await self._pool.close()

    # -- required ----------------------------------------------------------

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        """Store ``entries`` after the transcript's last entry, in one transaction.

        Entries whose ``uuid`` the transcript already holds (or that repeat an
        earlier one in the batch) are skipped. For a main transcript the
        session summary is folded over the entries actually stored, under the
        same lock, so it always agrees with the stored order.
        """
        project_key, session_id, subpath = _key(key)
        batch = _unique(entries)
        if not batch:
            return  # nothing to write: don't create an empty transcript
        uuids = [_uuid(entry) for entry in batch]
        texts = [_json(entry) for entry in batch]
        async with (
            self._pool.connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cur,
        ):
            await cur.execute(_LOCK, (project_key, session_id, subpath))
            locked = await cur.fetchone()
            assert locked is not None  # an upsert with RETURNING always returns the row
            last_seq, summary_text, mtime = cast("tuple[int, str | None, int]", locked)
            await cur.execute(_INSERT, (project_key, session_id, subpath, last_seq, uuids, texts))
            seqs = sorted(cast("int", row[0]) for row in await cur.fetchall())
            if not seqs:
                # Every entry was already stored (a retry): nothing changed,
                # so mtime and summary stay as they were.
                return
            summary = None
            if subpath == MAIN:
                stored = [batch[seq - last_seq - 1] for seq in seqs]
                prev: SessionSummaryEntry | None = None
                if summary_text is not None:
                    prev = {
                        "session_id": session_id,
                        "mtime": mtime,
                        "data": json.loads(summary_text),
                    }
                # The SDK's own fold. The mtime it carries is not stored:
                # list_session_summaries reports updated_at, list_sessions' clock.
                summary = _json(fold_session_summary(prev, key, stored)["data"])
            await cur.execute(_STAMP, (seqs[-1], summary, project_key, session_id, subpath))

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        """The transcript's entries in append order; ``None`` if it holds none."""
        project_key, session_id, subpath = _key(key)
        rows = await self._fetch(_LOAD, (project_key, session_id, subpath))
        if not rows:
            return None
        return [cast("SessionStoreEntry", json.loads(row[0])) for row in rows]

    # -- optional ----------------------------------------------------------

    async def list_sessions(self, project_key: str) -> list[SessionStoreListEntry]:
        """Sessions with a main transcript in ``project_key``, with their mtimes."""
        rows = await self._fetch(_LIST_SESSIONS, (project_key,))
        return [{"session_id": row[0], "mtime": row[1]} for row in rows]

    async def list_session_summaries(self, project_key: str) -> list[SessionSummaryEntry]:
        """The folded summaries of ``project_key``'s sessions, in one query."""
        rows = await self._fetch(_LIST_SUMMARIES, (project_key,))
        return [{"session_id": row[0], "mtime": row[1], "data": json.loads(row[2])} for row in rows]

    async def delete(self, key: SessionKey) -> None:
        """Delete a transcript; deleting a main transcript deletes its subagents' too."""
        project_key, session_id, subpath = _key(key)
        async with self._pool.connection() as conn, conn.transaction():
            if subpath == MAIN:
                await conn.execute(_DELETE_SESSION, (project_key, session_id))
            else:
                await conn.execute(_DELETE_SUBKEY, (project_key, session_id, subpath))

    async def list_subkeys(self, key: SessionListSubkeysKey) -> list[str]:
        """The subpaths (subagent transcripts) stored under a session, sorted."""
        rows = await self._fetch(_LIST_SUBKEYS, (key["project_key"], key["session_id"]))
        return [row[0] for row in rows]

    # -- helpers -----------------------------------------------------------

    async def _fetch(self, query: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        async with self._pool.connection() as conn:
            return await _fetchall(conn, query, params)


async def _fetchall(
    conn: AsyncConnection[Any], query: str, params: Sequence[object]
) -> list[tuple[Any, ...]]:
    # Tuples whatever row factory the (possibly shared) pool was given.
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


def _key(key: SessionKey) -> tuple[str, str, str]:
    """(project_key, session_id, subpath) with '' for the main transcript."""
    subpath = key.get("subpath")
    if subpath == "":
        # The protocol calls it invalid; treating it as the main transcript
        # would make a targeted delete cascade to the whole session.
        raise ValueError("subpath must be omitted for the main transcript, not empty")
    return key["project_key"], key["session_id"], subpath or MAIN


def _uuid(entry: SessionStoreEntry) -> str | None:
    value = cast("dict[str, Any]", entry).get("uuid")
    return value if isinstance(value, str) else None


def _unique(entries: list[SessionStoreEntry]) -> list[SessionStoreEntry]:
    """``entries`` without repeats of an earlier entry's uuid (first one wins)."""
    seen: set[str] = set()
    unique: list[SessionStoreEntry] = []
    for entry in entries:
        uuid = _uuid(entry)
        if uuid is not None:
            if uuid in seen:
                continue
            seen.add(uuid)
        unique.append(entry)
    return unique


def _json(value: object) -> str:
    """Compact JSON text like the CLI's JSONL lines: keys in order, UTF-8 as is.

    JavaScript strings may hold lone surrogates and JSON parsing keeps them,
    but they cannot be sent as UTF-8; such a value is stored with non-ASCII
    characters escaped instead, which loads back equal.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"))
    return text
