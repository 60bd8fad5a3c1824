-- File changes by agent: every file an agent created, modified or deleted,
-- newest first, with its diff.
-- param agent: text, optional — agent name (case-insensitive)
-- param path: text, optional — only paths containing this text, e.g. src/
-- param session: uuid, optional — session id
-- param since: timestamptz, optional — only changes at or after this time
-- param until: timestamptz, optional — only changes before this time
SELECT
    e.recorded_at AS at,
    created.payload ->> 'name' AS agent,
    e.payload ->> 'task' AS task,
    e.payload ->> 'change' AS change,
    e.payload ->> 'path' AS path,
    e.payload ->> 'diff' AS diff,
    e.session_id,
    e.notification_id
FROM events AS e
-- An agent's name is in the first event of its stream.
JOIN events AS created
    ON created.stream_id = e.stream_id AND created.version = 1
WHERE e.stream_type = 'agent'
    AND e.event_type = 'FileChanged'
    AND (%(agent)s::text IS NULL OR lower(created.payload ->> 'name') = lower(%(agent)s::text))
    AND (%(path)s::text IS NULL OR strpos(e.payload ->> 'path', %(path)s::text) > 0)
    AND (%(session)s::uuid IS NULL OR e.session_id = %(session)s::uuid)
    AND (%(since)s::timestamptz IS NULL OR e.recorded_at >= %(since)s::timestamptz)
    AND (%(until)s::timestamptz IS NULL OR e.recorded_at < %(until)s::timestamptz)
ORDER BY e.notification_id DESC;
