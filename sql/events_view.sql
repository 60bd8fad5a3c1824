-- The event log as audit SQL wants it: one row per event, payload as jsonb.
--
-- A template, rendered by eventlog/schema.py from the event classes: {events}
-- is eventsourcing's table (notification_id = the global, gapless order;
-- state = the msgspec JSON of the event), {session_topics} and {agent_topics}
-- match the topics of the session's and the agents' events, {suspects} lists
-- the events a reader of the log found it cannot decode. A topic is
-- "module:Class"; an event's stream type is the last part of its module, as
-- eventlog.reading.stream_type says. session_id is the session an event
-- belongs to: the session stream itself, the session named in an agent's
-- first event, or the session a system log entry names.
CREATE OR REPLACE VIEW events AS
SELECT
    e.notification_id,
    e.originator_id AS stream_id,
    regexp_replace(split_part(e.topic, ':', 1), '^.*\.', '') AS stream_type,
    e.originator_version AS version,
    split_part(e.topic, ':', 2) AS event_type,
    (stored.state ->> 'timestamp')::timestamptz AS recorded_at,
    stored.state -> 'payload' AS payload,
    CASE
        WHEN e.topic LIKE {session_topics} THEN e.originator_id
        ELSE coalesce(
            (stored.state -> 'payload' ->> 'session_id')::uuid,
            (
                podium_state(
                    first.state,
                    first.notification_id IN (SELECT notification_id FROM {suspects})
                ) -> 'payload' ->> 'session_id'
            )::uuid
        )
    END AS session_id
FROM {events} AS e
-- The state is parsed once per row, however many columns use it: written in
-- each column, it would be parsed once per column. (A function in FROM, not a
-- subquery: a subquery referring to e would keep the view from parallel plans.
-- COALESCE of one argument, because a bare podium_state() in FROM would be
-- called row by row instead of inlined.)
CROSS JOIN LATERAL COALESCE(
    podium_state(e.state, e.notification_id IN (SELECT notification_id FROM {suspects}))
) AS stored (state)
LEFT JOIN {events} AS first
    ON first.originator_id = e.originator_id AND first.originator_version = 1
    AND e.topic LIKE {agent_topics};
