-- One row per request for permission: the approval queue, and its decisions.
CREATE TABLE IF NOT EXISTS approvals (
    id uuid PRIMARY KEY,
    session_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    agent text NOT NULL,
    task text,
    tool text NOT NULL,
    input jsonb NOT NULL,
    rule text NOT NULL,
    status text NOT NULL,  -- pending, granted, denied or expired
    scope text,  -- of a grant: once, agent or session
    message text,  -- what a denied agent was told, or why the request expired
    requested_at timestamptz NOT NULL,
    decided_at timestamptz,
    decided_by text,
    notification_id bigint NOT NULL  -- the request's place in the log: oldest first
);
CREATE INDEX IF NOT EXISTS approvals_status ON approvals (status, notification_id);
CREATE INDEX IF NOT EXISTS approvals_session ON approvals (session_id, notification_id);
