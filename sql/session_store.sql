-- Claude Code transcripts, mirrored next to the event store by
-- runtime.session_store.PostgresSessionStore (the Agent SDK's SessionStore).
--
-- A transcript is what the CLI writes to one JSONL file: a session's main
-- transcript (subpath '') or one of its subagents' ('subagents/agent-…').
-- These are Claude's sessions, not podium's, hence the claude_ prefix.

-- One row per transcript. Appends lock this row, which gives each transcript
-- a total order across processes; it also carries the transcript's mtime and,
-- for main transcripts, the SDK's incrementally folded session summary.
CREATE TABLE IF NOT EXISTS claude_transcripts (
    project_key text NOT NULL,
    session_id text NOT NULL,
    -- '' is the main transcript: a NULL could not be part of the primary key.
    subpath text NOT NULL DEFAULT '',
    -- seq of the last entry stored; appends continue after it.
    last_seq bigint NOT NULL DEFAULT 0,
    -- Storage write time of the last append that stored something; the SDK's
    -- mtime (epoch ms) is derived from it. Strictly increasing per transcript.
    updated_at timestamptz NOT NULL,
    -- SessionSummaryEntry.data as JSON text: opaque SDK state, kept verbatim.
    -- Text rather than jsonb because jsonb rejects \u0000 in strings.
    summary text,
    PRIMARY KEY (project_key, session_id, subpath),
    CHECK (summary IS NULL OR subpath = '')
);

-- One row per transcript line, in append order (seq is dense per transcript
-- unless a duplicate was skipped). entry is the line's JSON text exactly as
-- stored: text, not jsonb, so key order, number spelling and \u0000 survive.
-- Query it with entry::json ->> 'type' and friends.
CREATE TABLE IF NOT EXISTS claude_transcript_entries (
    project_key text NOT NULL,
    session_id text NOT NULL,
    subpath text NOT NULL,
    seq bigint NOT NULL CHECK (seq > 0),
    -- The entry's "uuid" when it has one: the SDK's idempotency key.
    uuid text,
    entry text NOT NULL,
    PRIMARY KEY (project_key, session_id, subpath, seq),
    FOREIGN KEY (project_key, session_id, subpath)
        REFERENCES claude_transcripts ON DELETE CASCADE
);

-- A retried batch (the commit landed but the client saw an error) or a
-- re-import must not store an entry twice; entries without a uuid (titles,
-- tags, mode markers) are appended as they come.
CREATE UNIQUE INDEX IF NOT EXISTS claude_transcript_entries_uuid
    ON claude_transcript_entries (project_key, session_id, subpath, uuid)
    WHERE uuid IS NOT NULL;
