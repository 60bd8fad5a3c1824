"""The audit role's privileges: SELECT on the log and the read models, nothing else.

``sql/audit_role.sql`` creates the role (cluster-wide, once); the grants are
per database and per table, so every migration gives them again, and every
read model table gets its own as it is created, in the live schema or in a
rebuild's shadow one (a swapped-in table keeps its grants).
"""

from __future__ import annotations

from psycopg import sql

import sql as sql_files
from eventlog.postgres import EVENTS_TABLE
from eventlog.reading import Connection
from eventlog.schema import EVENTS_VIEW
from projections.faults import FAULTS_TABLE

AUDIT_ROLE = "podium_audit"
# The event table, its audit view, and the events the read models skipped as poison.
LOG_RELATIONS = (EVENTS_TABLE, EVENTS_VIEW, FAULTS_TABLE)


def create_audit_role(conn: Connection) -> None:
    """Create the role if it is missing and let it read the log (in ``public``)."""
    conn.execute(sql_files.read("audit_role.sql"))
    if not audit_role_exists(conn):
        return  # the migrating user may not create roles; audit says so when run
    role = sql.Identifier(AUDIT_ROLE)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
    grant_audit_reads(conn, LOG_RELATIONS)


def grant_audit_reads(conn: Connection, relations: tuple[str, ...]) -> None:
    """SELECT on ``relations`` (as the search path finds them) for the audit role."""
    if not audit_role_exists(conn):
        return
    conn.execute(
        sql.SQL("GRANT SELECT ON {} TO {}").format(
            sql.SQL(", ").join(sql.Identifier(name) for name in relations),
            sql.Identifier(AUDIT_ROLE),
        )
    )


def audit_role_exists(conn: Connection) -> bool:
    return (
        conn.execute("SELECT FROM pg_roles WHERE rolname = %s", (AUDIT_ROLE,)).fetchone()
        is not None
    )
