-- File changes by agent: what each agent created, modified, deleted or
-- renamed, and when, newest first; the tool call that did it (a Bash
-- command's changes are found by comparing the folder before and after), a
-- renamed file's old path, and the diff (git's in a git work tree; diff_note
-- says when it was cut, and how long it was).
-- param agent: text, optional — agent name (case-insensitive), e.g. --agent alice
-- param path: text, optional — only paths (or a renamed file's old path) containing this text, e.g. src/
-- param change: text, optional — only this kind: created, modified, deleted or renamed
-- param tool: text, optional — only changes made by this tool, e.g. Bash or Edit
-- param session: uuid, optional — session id
-- param since: timestamptz, optional — only changes at or after this time
-- param until: timestamptz, optional — only changes before this time
SELECT
    e.recorded_at AS at,
    created.payload ->> 'name' AS agent,
    e.payload ->> 'change' AS change,
    e.payload ->> 'path' AS path,
    e.payload ->> 'previous_path' AS previous_path,
    e.payload ->> 'tool' AS tool,
    e.payload ->> 'task' AS task,
    'diff cut at ' || length(e.payload ->> 'diff') || ' of '
        || (e.payload ->> 'diff_cut_from') || ' characters' AS diff_note,  -- NULL: whole
    e.payload ->> 'diff' AS diff,
    e.payload ->> 'tool_use_id' AS tool_use_id,
    e.session_id,
    e.notification_id
FROM events AS e
-- An agent's name is in the first event of its stream.
JOIN events AS created
    ON created.stream_id = e.stream_id AND created.version = 1
WHERE e.stream_type = 'agent'
    AND e.event_type = 'FileChanged'
    AND (%(agent)s::text IS NULL OR lower(created.payload ->> 'name') = lower(%(agent)s::text))
    AND (
        %(path)s::text IS NULL
        OR strpos(e.payload ->> 'path', %(path)s::text) > 0
        OR strpos(e.payload ->> 'previous_path', %(path)s::text) > 0
    )
    AND (%(change)s::text IS NULL OR e.payload ->> 'change' = lower(%(change)s::text))
    AND (%(tool)s::text IS NULL OR lower(e.payload ->> 'tool') = lower(%(tool)s::text))
    AND (%(session)s::uuid IS NULL OR e.session_id = %(session)s::uuid)
    AND (%(since)s::timestamptz IS NULL OR e.recorded_at >= %(since)s::timestamptz)
    AND (%(until)s::timestamptz IS NULL OR e.recorded_at < %(until)s::timestamptz)
ORDER BY e.notification_id DESC;
