"""Claiming commands from the log: each one executed at most once, by one runtime.

The runtime's position in the log is a row of ``projection_tracking``.
Claiming moves it past the next commands, committed, before the runtime acts
on them: a command whose claim committed is never claimed again, by this
runtime after a restart or by another one (the row is locked while it moves).

One runtime at a time acts on a database's commands: the one holding the
leader lock, a PostgreSQL session lock on its claims connection. Others
(a second ``podium up``, a ``podium chat`` beside it) stand by, and the first
to take the lock after the leader's connection goes takes over. Until agents
can be owned by different runtimes, this keeps one agent's commands from
being split between two processes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic

from domain import session as s
from domain.codec import PodiumEventType
from eventlog.postgres import EVENTS_TABLE
from eventlog.reading import HEAD

POSITION = "runtime"  # this consumer's row in projection_tracking
# An orchestrator's turn: a message starts it; a result or an interruption ends it.
MESSAGE = get_topic(s.UserMessageSent)
TURN_TOPICS = (MESSAGE, get_topic(s.TurnCompleted), get_topic(s.SessionInterrupted))
LEADER_KEY = "hashtext('podium runtime')"  # the advisory lock's key, as SQL (metrics read it)
LEADER_LOCK = f"SELECT pg_try_advisory_lock({LEADER_KEY})"


class NotLeading(RuntimeError):
    """This runtime lost its connection, and with it the leader lock."""


Command = tuple[int, UUID, int, str, bytes]  # notification id, stream, version, topic, state


class CommandClaims:
    """Claims commands on a connection of its own, kept open between claims
    (the runtime claims on every append it hears of). ``commands``: the events
    the runtime acts on (its handlers' table, runtime/runtime.py)."""

    def __init__(self, conninfo: str, commands: Iterable[PodiumEventType]) -> None:
        self.conninfo = conninfo
        self.topics = [get_topic(cls) for cls in commands]
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self._leading = False

    def lead(self) -> bool:
        """Become the runtime that acts on this database's commands, if none is;
        True while this one is. The lock lives as long as the claims connection."""
        conn = self._connected()
        if not self._leading:
            row = conn.execute(LEADER_LOCK).fetchone()
            self._leading = bool(row and row[0])
        return self._leading

    def ensure_position(self) -> None:
        """Start a runtime that never ran here at the log's end, not its beginning."""
        conn = self._connected()
        with conn.transaction():
            conn.execute(
                "INSERT INTO projection_tracking (projection, notification_id) "
                f"SELECT %s, ({HEAD}) ON CONFLICT DO NOTHING",
                (POSITION,),
            )

    def unanswered_sessions(self) -> set[UUID]:
        """Sessions whose orchestrator took a message (claimed, at or below the
        position) and neither finished its turn nor recorded why not."""
        conn = self._connected()
        with conn.transaction():
            row = conn.execute(
                "SELECT notification_id FROM projection_tracking WHERE projection = %s",
                (POSITION,),
            ).fetchone()
            rows = conn.execute(
                f"SELECT originator_id FROM {EVENTS_TABLE} WHERE topic = ANY(%s) "
                "GROUP BY originator_id HAVING "
                "max(notification_id) FILTER (WHERE topic = %s AND notification_id <= %s) > "
                "coalesce(max(notification_id) FILTER (WHERE topic <> %s), 0)",
                (list(TURN_TOPICS), MESSAGE, row[0] if row else 0, MESSAGE),
            ).fetchall()
        return {r[0] for r in rows}

    def claim(self, limit: int = 500) -> list[Command]:
        """Take the next commands: move the position past them, committed, before acting.

        The position moves to the log's head as it was read, not just to the
        last command: the events between are not commands, and reading them
        again on every claim would cost a read of the whole log since the last
        command. (Ids commit in order, so nothing below the head can appear later.)
        """
        conn = self._connected()
        if not self._leading:
            raise NotLeading("the runtime lost its database connection and its leader lock")
        try:
            with conn.transaction():
                row = conn.execute(
                    "SELECT notification_id FROM projection_tracking "
                    "WHERE projection = %s FOR UPDATE",
                    (POSITION,),
                ).fetchone()
                position = row[0] if row else 0
                head = conn.execute(HEAD).fetchone()
                until = head[0] if head else position
                if until <= position:
                    return []
                commands: list[Command] = conn.execute(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    f"FROM {EVENTS_TABLE} WHERE notification_id > %s AND notification_id <= %s "
                    "AND topic = ANY(%s) ORDER BY notification_id LIMIT %s",
                    (position, until, self.topics, limit),
                ).fetchall()
                if len(commands) == limit:
                    until = commands[-1][0]
                conn.execute(
                    "UPDATE projection_tracking SET notification_id = %s WHERE projection = %s",
                    (until, POSITION),
                )
        except psycopg.OperationalError:
            self.close()  # a new connection next time
            raise
        return [
            (i, stream, version, topic, bytes(state))
            for i, stream, version, topic, state in commands
        ]

    def close(self) -> None:
        self._leading = False
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _connected(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._leading = False  # a new connection holds no lock
            self._conn = psycopg.connect(
                self.conninfo, autocommit=True, application_name="podium runtime claims"
            )
        return self._conn
