"""Schema setup, in one call: the log (eventlog.schema: the events table and
view), the projections' tracking and faults, the read models, the tables
beside the log (Claude's transcripts, idempotency keys) and the role audit
SQL runs as.

Idempotent and safe to run from many processes at once: an advisory lock
serialises concurrent migrations, and every statement is IF NOT EXISTS or
CREATE OR REPLACE.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

import sql as sql_files
from eventlog.reading import Connection
from eventlog.schema import create_events_view, create_log
from projections.audit_role import create_audit_role, grant_audit_reads
from projections.directory import AgentDirectory
from projections.faults import FAULTS_TABLE
from projections.read_models import NAMES, projectors

MIGRATION_LOCK = 0x706F6469  # "podi"


def migrate(conninfo: str) -> None:
    """Create or update everything podium needs in the database."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            create_log(conninfo)
            with conn.transaction():
                conn.execute(sql_files.read("projection_tables.sql"))
                create_events_view(conn, suspects=FAULTS_TABLE)
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
