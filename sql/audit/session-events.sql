-- Session events: everything recorded for one session (the session's own
-- events, its agents' events and system log entries naming it), oldest first.
-- param session: uuid, required — session id
-- param since: timestamptz, optional — only events at or after this time
-- param until: timestamptz, optional — only events before this time
SELECT
    e.notification_id,
    e.recorded_at AS at,
    CASE e.stream_type
        WHEN 'agent' THEN 'agent:' || (created.payload ->> 'name')
        ELSE e.stream_type
    END AS stream,
    e.event_type,
    e.payload
FROM events AS e
-- An agent's name is in the first event of its stream.
LEFT JOIN events AS created
    ON e.stream_type = 'agent' AND created.stream_id = e.stream_id AND created.version = 1
WHERE e.session_id = %(session)s::uuid
    AND (%(since)s::timestamptz IS NULL OR e.recorded_at >= %(since)s::timestamptz)
    AND (%(until)s::timestamptz IS NULL OR e.recorded_at < %(until)s::timestamptz)
ORDER BY e.notification_id;
