-- Events a read model skipped (projections/faults.py): one row per read model
-- and event, written in the transaction that moves the read model past it.
CREATE TABLE IF NOT EXISTS projection_faults (
    projection text NOT NULL,
    notification_id bigint NOT NULL,
    error text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, notification_id)
);

-- Each projection's position in the log, committed with its rows.
CREATE TABLE IF NOT EXISTS projection_tracking (
    projection text PRIMARY KEY,
    notification_id bigint NOT NULL DEFAULT 0
);
