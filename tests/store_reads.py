"""What tests read of the event store directly, beside podium's own reads."""

from __future__ import annotations

import psycopg

from eventlog.postgres import EVENTS_TABLE


def transactions(database_url: str) -> int:
    """How many transactions wrote the events in the store (group commit's count)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(f"SELECT count(DISTINCT xmin::text) FROM {EVENTS_TABLE}").fetchone()
    assert row is not None
    return int(row[0])
