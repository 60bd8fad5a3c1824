-- The event log as audit SQL wants it: one row per event, payload as jsonb.
--
-- podium_events is eventsourcing's table (notification_id = the global,
-- gapless order; state = the msgspec JSON of the event). session_id is the
-- session an event belongs to: the session stream itself, the session named
-- in an agent's first event, or the session a system log entry names.
CREATE OR REPLACE VIEW events AS
SELECT
    e.notification_id,
    e.originator_id AS stream_id,
    regexp_replace(split_part(e.topic, ':', 1), '^domain\.', '') AS stream_type,
    e.originator_version AS version,
    split_part(e.topic, ':', 2) AS event_type,
    (stored.state ->> 'timestamp')::timestamptz AS recorded_at,
    stored.state -> 'payload' AS payload,
    CASE
        WHEN e.topic LIKE 'domain.session:%' THEN e.originator_id
        ELSE coalesce(
            (stored.state -> 'payload' ->> 'session_id')::uuid,
            (convert_from(first.state, 'UTF8')::jsonb -> 'payload' ->> 'session_id')::uuid
        )
    END AS session_id
FROM podium_events AS e
-- The state is parsed once per row, however many columns use it: written in
-- each column, it would be parsed once per column. (A function in FROM, not a
-- subquery: a subquery referring to e would keep the view from parallel plans.)
CROSS JOIN LATERAL CAST(convert_from(e.state, 'UTF8') AS jsonb) AS stored (state)
LEFT JOIN podium_events AS first
    ON first.originator_id = e.originator_id AND first.originator_version = 1
    AND e.topic LIKE 'domain.agent:%';

-- Each projection's position in the log, committed with its rows.
CREATE TABLE IF NOT EXISTS projection_tracking (
    projection text PRIMARY KEY,
    notification_id bigint NOT NULL DEFAULT 0
);
