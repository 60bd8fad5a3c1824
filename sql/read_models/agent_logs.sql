-- Everything agents do, one row per event, with a one-line summary. The
-- event's payload is in the log: join events (or podium_events) on
-- notification_id.
CREATE TABLE IF NOT EXISTS agent_logs (
    notification_id bigint PRIMARY KEY,
    session_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    agent_name text NOT NULL,
    task text,
    event_type text NOT NULL,
    category text NOT NULL,          -- lifecycle | message | thinking | tool | hook | file | result
    at timestamptz NOT NULL,
    summary text NOT NULL,
    ai_summary text
);
-- Earlier versions kept a copy of the payload here. (Checked first: ALTER TABLE
-- would lock the table on every migration even when there is nothing to drop.)
DO $$
BEGIN
    IF EXISTS (
        SELECT FROM pg_attribute
        WHERE attrelid = 'agent_logs'::regclass AND attname = 'payload' AND NOT attisdropped
    ) THEN
        ALTER TABLE agent_logs DROP COLUMN payload;
    END IF;
END
$$;
CREATE INDEX IF NOT EXISTS agent_logs_session ON agent_logs (session_id, notification_id);
CREATE INDEX IF NOT EXISTS agent_logs_agent ON agent_logs (agent_id, notification_id);
