-- Responses to commands sent with an Idempotency-Key header, so that a
-- retried command is answered again instead of executed again
-- (gateway/idempotency.py says what a retry gets while there is no answer).
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key text PRIMARY KEY,
    request text NOT NULL,           -- method and path the key was first used with
    status integer,                  -- NULL while the first request is in progress
    body bytea,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Who holds the claim while there is no answer, and since when: a retry may
-- take over a claim whose owner is gone.
ALTER TABLE idempotency_keys
    ADD COLUMN IF NOT EXISTS owner text,
    ADD COLUMN IF NOT EXISTS claimed_at timestamptz NOT NULL DEFAULT now();
