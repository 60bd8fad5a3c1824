-- Cost by model and day: turns, tokens and spend of the orchestrator and of
-- the agents, per UTC day and model, summed from TurnCompleted events.
-- param agent: text, optional — only this agent's turns (name, case-insensitive)
-- param session: uuid, optional — session id
-- param since: timestamptz, optional — only turns completed at or after this time
-- param until: timestamptz, optional — only turns completed before this time
SELECT
    (e.recorded_at AT TIME ZONE 'UTC')::date AS day,
    e.payload ->> 'model' AS model,
    -- All agents together, or the one agent asked for.
    CASE
        WHEN e.stream_type = 'session' THEN 'orchestrator'
        WHEN %(agent)s::text IS NULL THEN 'agents'
        ELSE 'agent:' || min(created.payload ->> 'name')
    END AS actor,
    count(*) AS turns,
    sum((e.payload -> 'usage' ->> 'input_tokens')::bigint) AS input_tokens,
    sum((e.payload -> 'usage' ->> 'output_tokens')::bigint) AS output_tokens,
    sum((e.payload -> 'usage' ->> 'cache_creation_input_tokens')::bigint)
        AS cache_creation_input_tokens,
    sum((e.payload -> 'usage' ->> 'cache_read_input_tokens')::bigint) AS cache_read_input_tokens,
    sum((e.payload ->> 'cost_usd')::numeric) AS cost_usd
FROM events AS e
-- An agent's name is in the first event of its stream; the orchestrator has none.
LEFT JOIN events AS created
    ON e.stream_type = 'agent' AND created.stream_id = e.stream_id AND created.version = 1
WHERE e.stream_type IN ('session', 'agent')
    AND e.event_type = 'TurnCompleted'
    AND (%(agent)s::text IS NULL OR lower(created.payload ->> 'name') = lower(%(agent)s::text))
    AND (%(session)s::uuid IS NULL OR e.session_id = %(session)s::uuid)
    AND (%(since)s::timestamptz IS NULL OR e.recorded_at >= %(since)s::timestamptz)
    AND (%(until)s::timestamptz IS NULL OR e.recorded_at < %(until)s::timestamptz)
GROUP BY day, model, e.stream_type
ORDER BY day, model, actor DESC;
