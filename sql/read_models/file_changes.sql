-- Files agents created, modified or deleted, with their diffs.
CREATE TABLE IF NOT EXISTS file_changes (
    notification_id bigint PRIMARY KEY,
    session_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    agent_name text NOT NULL,
    task text,
    at timestamptz NOT NULL,
    path text NOT NULL,
    change text NOT NULL,
    diff text NOT NULL
);
CREATE INDEX IF NOT EXISTS file_changes_agent ON file_changes (agent_id, notification_id);
