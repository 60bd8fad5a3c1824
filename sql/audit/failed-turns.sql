-- Failed turns: turns of agents and the orchestrator that failed, were
-- interrupted or ended in an error (AgentFailed, AgentInterrupted,
-- SessionInterrupted, TurnCompleted with is_error), newest first.
-- param agent: text, optional — only this agent's turns (name, case-insensitive)
-- param session: uuid, optional — session id
-- param since: timestamptz, optional — only turns that ended at or after this time
-- param until: timestamptz, optional — only turns that ended before this time
SELECT
    e.recorded_at AS at,
    CASE e.stream_type
        WHEN 'agent' THEN 'agent:' || (created.payload ->> 'name')
        ELSE 'orchestrator'
    END AS actor,
    CASE
        WHEN e.event_type = 'AgentFailed' THEN 'failed'
        WHEN e.event_type IN ('AgentInterrupted', 'SessionInterrupted') THEN 'interrupted'
        ELSE 'error'
    END AS outcome,
    e.payload ->> 'task' AS task,
    coalesce(
        e.payload ->> 'error',
        e.payload ->> 'reason',
        'turn ended in an error (claude session ' || (e.payload ->> 'claude_session_id') || ')'
    ) AS detail,
    e.session_id,
    e.notification_id
FROM events AS e
-- An agent's name is in the first event of its stream; the orchestrator has none.
LEFT JOIN events AS created
    ON e.stream_type = 'agent' AND created.stream_id = e.stream_id AND created.version = 1
WHERE (
        (e.stream_type = 'agent' AND e.event_type IN ('AgentFailed', 'AgentInterrupted'))
        OR (e.stream_type = 'session' AND e.event_type = 'SessionInterrupted')
        OR (
            e.stream_type IN ('agent', 'session')
            AND e.event_type = 'TurnCompleted'
            AND (e.payload ->> 'is_error')::boolean
        )
    )
    AND (%(agent)s::text IS NULL OR lower(created.payload ->> 'name') = lower(%(agent)s::text))
    AND (%(session)s::uuid IS NULL OR e.session_id = %(session)s::uuid)
    AND (%(since)s::timestamptz IS NULL OR e.recorded_at >= %(since)s::timestamptz)
    AND (%(until)s::timestamptz IS NULL OR e.recorded_at < %(until)s::timestamptz)
ORDER BY e.notification_id DESC;
