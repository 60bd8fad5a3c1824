-- The event log's stored state as jsonb, for the events view (events_view.sql,
-- rendered by eventlog/schema.py) and for audit SQL.

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
