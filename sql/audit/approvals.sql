-- Approvals: every request for permission, newest first: the agent, the tool
-- and its input, the rule that asked, who decided what and when (or why it
-- expired), and what the tool then did (ok or error, and the start of its
-- output; none while it has not run, or when it never ran).
-- param agent: text, optional — agent name (case-insensitive)
-- param session: uuid, optional — session id
-- param status: text, optional — pending, granted, denied or expired
-- param since: timestamptz, optional — only requests made at or after this time
-- param until: timestamptz, optional — only requests made before this time
SELECT
    requested.recorded_at AS requested_at,
    requested.payload ->> 'agent' AS agent,
    requested.payload ->> 'tool' AS tool,
    requested.payload -> 'input' AS input,
    requested.payload ->> 'rule' AS rule,
    state.status,
    decision.payload ->> 'scope' AS scope,
    decision.payload ->> 'by' AS decided_by,
    decision.recorded_at AS decided_at,
    coalesce(decision.payload ->> 'message', decision.payload ->> 'reason') AS message,
    CASE
        WHEN tool.is_error IS NULL THEN 'none'
        WHEN tool.is_error THEN 'error'
        ELSE 'ok'
    END AS tool_outcome,
    left(tool.output, 200) AS tool_output,
    requested.session_id,
    requested.stream_id AS approval_id
FROM events AS requested
-- The decision is the request's stream's second event, if it has one.
LEFT JOIN events AS decision
    ON decision.stream_id = requested.stream_id AND decision.version = 2
CROSS JOIN LATERAL (
    SELECT CASE decision.event_type
        WHEN 'ApprovalGranted' THEN 'granted'
        WHEN 'ApprovalDenied' THEN 'denied'
        WHEN 'ApprovalExpired' THEN 'expired'
        ELSE 'pending'
    END AS status
) AS state
-- What the tool did: the agent's result for the same tool use, its text as the
-- CLI gave it (a Bash command's stdout; a refusal's message).
LEFT JOIN LATERAL (
    SELECT
        (result.payload ->> 'is_error')::boolean AS is_error,
        CASE jsonb_typeof(result.payload -> 'output')
            WHEN 'string' THEN result.payload ->> 'output'
            WHEN 'object' THEN coalesce(
                result.payload -> 'output' ->> 'stdout', (result.payload -> 'output')::text
            )
            ELSE (result.payload -> 'output')::text
        END AS output
    FROM events AS result
    WHERE result.stream_id = (requested.payload ->> 'agent_id')::uuid
        AND result.event_type = 'ToolUseCompleted'
        AND result.payload ->> 'tool_use_id' = requested.payload ->> 'tool_use_id'
    ORDER BY result.notification_id
    LIMIT 1
) AS tool ON true
WHERE requested.stream_type = 'approval'
    AND requested.event_type = 'ApprovalRequested'
    AND (
        %(agent)s::text IS NULL
        OR lower(requested.payload ->> 'agent') = lower(%(agent)s::text)
    )
    AND (%(session)s::uuid IS NULL OR requested.session_id = %(session)s::uuid)
    AND (%(status)s::text IS NULL OR state.status = lower(%(status)s::text))
    AND (%(since)s::timestamptz IS NULL OR requested.recorded_at >= %(since)s::timestamptz)
    AND (%(until)s::timestamptz IS NULL OR requested.recorded_at < %(until)s::timestamptz)
ORDER BY requested.notification_id DESC;
