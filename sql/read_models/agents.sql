-- One row per agent (per incarnation of a name): the sidebar.
CREATE TABLE IF NOT EXISTS agents (
    agent_id uuid PRIMARY KEY,
    session_id uuid NOT NULL,
    name text NOT NULL,
    incarnation integer NOT NULL,
    model text NOT NULL,
    template text,
    cwd text NOT NULL,
    system_prompt text NOT NULL,
    status text NOT NULL,
    current_task text,
    queued integer NOT NULL DEFAULT 0,  -- commands waiting for their turn
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cache_creation_input_tokens bigint NOT NULL DEFAULT 0,
    cache_read_input_tokens bigint NOT NULL DEFAULT 0,
    cache_creation_1h_input_tokens bigint NOT NULL DEFAULT 0,  -- of the cache writes, 1-hour ones
    cost_usd numeric NOT NULL DEFAULT 0,  -- the CLI's: what budgets decide on
    priced_usd numeric NOT NULL DEFAULT 0,  -- podium's price table's, of the priced turns
    unpriced_turns integer NOT NULL DEFAULT 0,  -- turns of a model the table does not know
    discrepancies integer NOT NULL DEFAULT 0,  -- CostDiscrepancy events
    budget_usd numeric,  -- none: no budget of its own
    budget_warned integer NOT NULL DEFAULT 0,  -- the last warning percent under the budget
    turns integer NOT NULL DEFAULT 0,
    tool_uses integer NOT NULL DEFAULT 0,
    claude_session_id text,
    created_at timestamptz NOT NULL,
    last_activity_at timestamptz NOT NULL,
    deleted_at timestamptz,
    summary text,  -- the AI summary of its latest summarized event
    summary_of bigint  -- that event's notification id
);
CREATE INDEX IF NOT EXISTS agents_session_name ON agents (session_id, lower(name));
-- Tables made before costs were reconciled (a rebuild fills the new columns).
ALTER TABLE agents ADD COLUMN IF NOT EXISTS cache_creation_1h_input_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN IF NOT EXISTS priced_usd numeric NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN IF NOT EXISTS unpriced_turns integer NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN IF NOT EXISTS discrepancies integer NOT NULL DEFAULT 0;
-- Tables made before AI summaries.
ALTER TABLE agents ADD COLUMN IF NOT EXISTS summary text;
ALTER TABLE agents ADD COLUMN IF NOT EXISTS summary_of bigint;
-- Tables made before agents queued their commands.
ALTER TABLE agents ADD COLUMN IF NOT EXISTS queued integer NOT NULL DEFAULT 0;
-- Tables made before budgets could change: the budget each agent has now,
-- read from its events once (a rebuild's fresh tables have the columns).
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'agents'
            AND column_name = 'budget_usd'
    ) THEN
        ALTER TABLE agents ADD COLUMN budget_usd numeric;
        ALTER TABLE agents ADD COLUMN budget_warned integer NOT NULL DEFAULT 0;
        UPDATE agents SET budget_usd = (
            SELECT (e.payload ->> 'budget_usd')::numeric FROM events AS e
            WHERE e.stream_id = agents.agent_id AND e.event_type = 'AgentCreated'
        );
    END IF;
END
$$;
