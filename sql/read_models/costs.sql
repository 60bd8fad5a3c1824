-- Spend per session, per actor (the orchestrator or an agent), per model and day.
CREATE TABLE IF NOT EXISTS costs (
    session_id uuid NOT NULL,
    actor_id uuid NOT NULL,          -- the session id for the orchestrator
    actor_kind text NOT NULL,        -- 'orchestrator' | 'agent'
    actor_name text NOT NULL,
    model text NOT NULL,
    day date NOT NULL,
    turns integer NOT NULL DEFAULT 0,
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cache_creation_input_tokens bigint NOT NULL DEFAULT 0,
    cache_read_input_tokens bigint NOT NULL DEFAULT 0,
    cost_usd numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, actor_id, model, day)
);
