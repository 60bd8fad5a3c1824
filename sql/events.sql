-- Events a read model skipped (projections/faults.py): one row per read model
-- and event, written in the transaction that moves the read model past it.
CREATE TABLE IF NOT EXISTS projection_faults (
    projection text NOT NULL,
    notification_id bigint NOT NULL,
    error text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, notification_id)
);

-- Stored state that PostgreSQL cannot read as it is, as jsonb: the NUL
-- escapes an older podium stored become "␀" (what podium records now; an
-- escaped backslash before "u0000" is text, and stays), surrogate escapes
-- that jsonb refuses become U+FFFD; state that is not UTF-8 or not JSON, or
-- whose timestamp or session id the view could not cast, is all payload:
-- {"payload": {"unreadable": <its JSON, or its bytes escaped>}}. Only suspect
-- rows come here (podium_state), so the exception blocks cost the others nothing.
CREATE OR REPLACE FUNCTION podium_readable_state(state bytea) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    cleaned text;
    readable jsonb;
BEGIN
    cleaned := regexp_replace(
        convert_from(state, 'UTF8'), '(?<!\\)((?:\\\\)*)\\u0000', '\1' || U&'\2400', 'g'
    );
    BEGIN
        readable := cleaned::jsonb;
    EXCEPTION WHEN others THEN
        readable := regexp_replace(
            cleaned, '(?<!\\)((?:\\\\)*)\\u[dD][89a-fA-F][0-9a-fA-F]{2}', '\1' || U&'\FFFD', 'g'
        )::jsonb;
    END;
    PERFORM (readable ->> 'timestamp')::timestamptz, (readable -> 'payload' ->> 'session_id')::uuid;
    RETURN readable;
EXCEPTION WHEN others THEN
    RETURN jsonb_build_object(
        'payload', jsonb_build_object('unreadable', coalesce(readable, to_jsonb(encode(state, 'escape'))))
    );
END
$$;

-- An event's stored state as jsonb, never an error. Rows with a \u escape
-- (msgspec writes one only for a control character) or that the read side
-- found it cannot decode (suspect: it recorded a fault) take the careful way;
-- the others, nearly all, pay one search of their bytes (~5% of the jsonb
-- parse). A SQL function PostgreSQL inlines into the query, so no call per
-- row: STABLE, as convert_from is (an IMMUTABLE one would not be inlined).
CREATE OR REPLACE FUNCTION podium_state(state bytea, suspect boolean) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
    WHEN suspect OR position('\x5c75'::bytea IN state) > 0 THEN podium_readable_state(state)
    ELSE convert_from(state, 'UTF8')::jsonb
END;

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
            (
                podium_state(
                    first.state,
                    first.notification_id IN (SELECT notification_id FROM projection_faults)
                ) -> 'payload' ->> 'session_id'
            )::uuid
        )
    END AS session_id
FROM podium_events AS e
-- The state is parsed once per row, however many columns use it: written in
-- each column, it would be parsed once per column. (A function in FROM, not a
-- subquery: a subquery referring to e would keep the view from parallel plans.
-- COALESCE of one argument, because a bare podium_state() in FROM would be
-- called row by row instead of inlined.)
CROSS JOIN LATERAL COALESCE(
    podium_state(e.state, e.notification_id IN (SELECT notification_id FROM projection_faults))
) AS stored (state)
LEFT JOIN podium_events AS first
    ON first.originator_id = e.originator_id AND first.originator_version = 1
    AND e.topic LIKE 'domain.agent:%';

-- Each projection's position in the log, committed with its rows.
CREATE TABLE IF NOT EXISTS projection_tracking (
    projection text PRIMARY KEY,
    notification_id bigint NOT NULL DEFAULT 0
);
