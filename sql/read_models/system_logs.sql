-- podium's own log.
CREATE TABLE IF NOT EXISTS system_logs (
    notification_id bigint PRIMARY KEY,
    at timestamptz NOT NULL,
    level text NOT NULL,
    message text NOT NULL,
    context jsonb NOT NULL,
    session_id uuid
);
CREATE INDEX IF NOT EXISTS system_logs_level ON system_logs (level, notification_id);
