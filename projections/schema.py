"""Schema setup: the event store, the events view, tracking, the read models and
the role audit SQL runs as.

Idempotent and safe to run from many processes at once: an advisory lock
serialises concurrent migrations, and every statement is IF NOT EXISTS or
CREATE OR REPLACE.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

import sql as sql_files
from eventlog.postgres import open_podium
from eventlog.reading import Connection
from projections.audit_role import create_audit_role, grant_audit_reads
from projections.directory import AgentDirectory
from projections.read_models import NAMES, projectors

MIGRATION_LOCK = 0x706F6469  # "podi"


def migrate(conninfo: str) -> None:
    """Create or update everything podium needs in the database."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            open_podium(conninfo, pool_size=1).close()  # eventsourcing creates its tables
            with conn.transaction():
                conn.execute(sql_files.read("events.sql"))
                conn.execute(sql_files.read("session_store.sql"))
                conn.execute(sql_files.read("idempotency.sql"))
                create_audit_role(conn)
                create_read_models(conn, NAMES)
                conn.execute(
                    "INSERT INTO projection_tracking (projection) SELECT unnest(%s::text[]) "
                    "ON CONFLICT DO NOTHING",
                    (list(NAMES),),
                )
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def create_read_models(conn: Connection, names: tuple[str, ...], schema: str = "public") -> None:
    """Run the read models' DDL in ``schema`` (the live one, or a rebuild's shadow)."""
    conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
    for projector in projectors(names, AgentDirectory()):
        conn.execute(projector.ddl())
    grant_audit_reads(conn, names)  # each read model's table is named after it
    conn.execute("SET LOCAL search_path TO DEFAULT")
