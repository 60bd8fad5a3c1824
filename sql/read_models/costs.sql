-- Spend per session, per actor (the orchestrator, an agent or the summarizer), per model and day:
-- every model a turn used (a Task sub-agent's included) has its own row.
CREATE TABLE IF NOT EXISTS costs (
    session_id uuid NOT NULL,
    actor_id uuid NOT NULL,          -- the session id for the orchestrator, its summaries' stream
    actor_kind text NOT NULL,        -- 'orchestrator' | 'agent' | 'summarizer'
    actor_name text NOT NULL,
    model text NOT NULL,
    day date NOT NULL,
    turns integer NOT NULL DEFAULT 0,
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cache_creation_input_tokens bigint NOT NULL DEFAULT 0,  -- every cache write
    cache_creation_1h_input_tokens bigint NOT NULL DEFAULT 0,  -- of them 1-hour writes
    cache_read_input_tokens bigint NOT NULL DEFAULT 0,
    cost_usd numeric NOT NULL DEFAULT 0,  -- the CLI's: what budgets decide on
    priced_usd numeric NOT NULL DEFAULT 0,  -- podium's price table's, of the priced turns
    unpriced_turns integer NOT NULL DEFAULT 0,  -- turns of a model the table does not know
    discrepancies integer NOT NULL DEFAULT 0,  -- CostDiscrepancy events
    PRIMARY KEY (session_id, actor_id, model, day)
);
-- Tables made before costs were reconciled (a rebuild fills the new columns).
ALTER TABLE costs ADD COLUMN IF NOT EXISTS cache_creation_1h_input_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE costs ADD COLUMN IF NOT EXISTS priced_usd numeric NOT NULL DEFAULT 0;
ALTER TABLE costs ADD COLUMN IF NOT EXISTS unpriced_turns integer NOT NULL DEFAULT 0;
ALTER TABLE costs ADD COLUMN IF NOT EXISTS discrepancies integer NOT NULL DEFAULT 0;
