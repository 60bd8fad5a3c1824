-- Tool uses by agent: every tool call an agent requested, newest first, with
-- its outcome (ok, error, or pending while no result is recorded).
-- param agent: text, optional — agent name (case-insensitive)
-- param tool: text, optional — tool name, e.g. Bash (case-insensitive)
-- param session: uuid, optional — session id
-- param since: timestamptz, optional — only tool uses at or after this time
-- param until: timestamptz, optional — only tool uses before this time
SELECT
    e.recorded_at AS at,
    created.payload ->> 'name' AS agent,
    e.payload ->> 'task' AS task,
    e.payload ->> 'tool' AS tool,
    e.payload -> 'input' AS input,
    CASE
        WHEN result.is_error IS NULL THEN 'pending'
        WHEN result.is_error THEN 'error'
        ELSE 'ok'
    END AS outcome,
    e.payload ->> 'tool_use_id' AS tool_use_id,
    e.session_id,
    e.notification_id
FROM events AS e
-- An agent's name is in the first event of its stream.
JOIN events AS created
    ON created.stream_id = e.stream_id AND created.version = 1
-- One pass over the results, hash-joined, rather than a lookup per tool use.
LEFT JOIN (
    SELECT
        stream_id,
        payload ->> 'tool_use_id' AS tool_use_id,
        bool_or((payload ->> 'is_error')::boolean) AS is_error
    FROM events
    WHERE stream_type = 'agent' AND event_type = 'ToolUseCompleted'
    GROUP BY stream_id, payload ->> 'tool_use_id'
) AS result
    ON result.stream_id = e.stream_id AND result.tool_use_id = e.payload ->> 'tool_use_id'
WHERE e.stream_type = 'agent'
    AND e.event_type = 'ToolUseRequested'
    AND (%(agent)s::text IS NULL OR lower(created.payload ->> 'name') = lower(%(agent)s::text))
    AND (%(tool)s::text IS NULL OR lower(e.payload ->> 'tool') = lower(%(tool)s::text))
    AND (%(session)s::uuid IS NULL OR e.session_id = %(session)s::uuid)
    AND (%(since)s::timestamptz IS NULL OR e.recorded_at >= %(since)s::timestamptz)
    AND (%(until)s::timestamptz IS NULL OR e.recorded_at < %(until)s::timestamptz)
ORDER BY e.notification_id DESC;
