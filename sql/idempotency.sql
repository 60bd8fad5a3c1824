-- Responses to commands sent with an Idempotency-Key header, so that a
-- retried command is answered again instead of executed again.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key text PRIMARY KEY,
    request text NOT NULL,           -- method and path the key was first used with
    status integer,                  -- NULL while the first request is in progress
    body bytea,
    created_at timestamptz NOT NULL DEFAULT now()
);
