"""The log's schema: the events table, and the view audit SQL reads it through.

eventsourcing creates the table (and podium's recorder its insert function)
whenever the application service opens on a database; ``create_log`` is
that, on its own. ``create_events_view`` makes the ``events`` view and the
functions it reads stored state with (sql/events.sql, sql/events_view.sql).
The view's SQL is rendered here from the event classes, so no topic is
written by hand: a module renamed renames what the view matches.

Both are idempotent (IF NOT EXISTS, CREATE OR REPLACE); whoever migrates
serialises them (projections.schema.migrate takes an advisory lock).
"""

from __future__ import annotations

from eventsourcing.utils import get_topic
from psycopg import sql

import sql as sql_files
from domain.agent import AgentCreated
from domain.codec import PodiumEventType
from domain.session import SessionStarted
from eventlog.postgres import EVENTS_TABLE, open_podium
from eventlog.reading import Connection

EVENTS_VIEW = "events"


def create_log(conninfo: str) -> None:
    """Create the events table and its insert function if they are missing."""
    open_podium(conninfo, pool_size=1).close()


def create_events_view(conn: Connection, suspects: str) -> None:
    """Create (or replace) the ``events`` view and the functions it uses.

    ``suspects`` is a table whose ``notification_id`` column lists events a
    reader of the log could not decode: the view reads their state the
    careful way (sql/events.sql says why that is not the way for every row).
    """
    conn.execute(sql_files.read("events.sql"))
    conn.execute(events_view(suspects))


def events_view(suspects: str) -> sql.Composed:
    """The view's DDL, its tables and topics filled in."""
    return sql.SQL(sql_files.read("events_view.sql")).format(
        events=sql.Identifier(EVENTS_TABLE),
        suspects=sql.Identifier(suspects),
        session_topics=sql.Literal(topics_like(SessionStarted)),
        agent_topics=sql.Literal(topics_like(AgentCreated)),
    )


def topics_like(cls: PodiumEventType) -> str:
    """A LIKE pattern for the topics of every event of ``cls``'s stream: those of
    its module (a topic is "module:Class"), wildcards in the name escaped."""
    module, _, _ = get_topic(cls).partition(":")
    escaped = module.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}:%"
