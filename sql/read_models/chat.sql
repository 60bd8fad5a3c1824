-- The three-way conversation: the user, the orchestrator, and the agents.
CREATE TABLE IF NOT EXISTS chat (
    notification_id bigint PRIMARY KEY,
    session_id uuid NOT NULL,
    at timestamptz NOT NULL,
    role text NOT NULL,              -- 'user' | 'orchestrator' | 'agent'
    author text NOT NULL,
    kind text NOT NULL,              -- 'message' | 'tool_use'
    text text NOT NULL,
    agent_id uuid
);
CREATE INDEX IF NOT EXISTS chat_session ON chat (session_id, notification_id);
