-- Everything agents do, one row per event, with a one-line summary.
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
    ai_summary text,
    payload jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS agent_logs_session ON agent_logs (session_id, notification_id);
CREATE INDEX IF NOT EXISTS agent_logs_agent ON agent_logs (agent_id, notification_id);
