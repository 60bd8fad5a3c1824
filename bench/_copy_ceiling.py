"""The ceiling PostgreSQL offers on this machine: the same rows COPYed into a table.

ingest compares podium's appends with a binary COPY of the very rows it
stored (read back from the store) into a table shaped like the store: plain,
and with the store's primary key and notification_id index.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

# The ceiling's target tables: the store's columns with a bigserial, as a plain
# table (no keys or indexes), and with the store's primary key and index too.
PLAIN = (
    "CREATE TABLE copy_plain (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
    "topic text, state bytea, notification_id bigserial)"
)
INDEXED = (
    "CREATE TABLE copy_indexed (originator_id uuid NOT NULL, "
    "originator_version bigint NOT NULL, topic text, state bytea, notification_id bigserial, "
    "PRIMARY KEY (originator_id, originator_version)); "
    "CREATE UNIQUE INDEX ON copy_indexed (notification_id)"
)

Row = tuple[Any, ...]


def copy_seconds(conninfo: str, ddl: str, rows: list[Row], runs: int) -> float:
    """Seconds to COPY ``rows`` into the table ``ddl`` creates, commit included.

    The best of ``runs`` (each into a new table): on a shared machine one COPY
    can be slowed by other work, and the ceiling is what the server can do.
    """
    table = ddl.split()[2]
    best = float("inf")
    with psycopg.connect(conninfo) as conn:
        for _ in range(runs):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in ddl.split("; "):
                conn.execute(statement)
            conn.commit()
            began = time.perf_counter()
            with (
                conn.cursor() as cur,
                cur.copy(
                    f"COPY {table} (originator_id, originator_version, topic, state) "
                    "FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            best = min(best, time.perf_counter() - began)
    return best
