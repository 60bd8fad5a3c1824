-- One row per session: what the session picker shows.
CREATE TABLE IF NOT EXISTS sessions (
    session_id uuid PRIMARY KEY,
    title text NOT NULL,
    cwd text NOT NULL,
    status text NOT NULL,
    budget_usd numeric,
    started_at timestamptz NOT NULL,
    last_activity_at timestamptz NOT NULL,
    ended_at timestamptz,
    messages integer NOT NULL DEFAULT 0,
    agents integer NOT NULL DEFAULT 0,
    turns integer NOT NULL DEFAULT 0,
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cost_usd numeric NOT NULL DEFAULT 0,
    claude_session_id text
);
