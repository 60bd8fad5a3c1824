"""`podium events`: print the log, and follow it live like `tail -f`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO
from uuid import UUID

import psycopg
from psycopg import sql

from eventlog.postgres import EVENTS_TABLE
from eventlog.reading import Connection, Cursor, RecordedEvent, read_events
from projections.directory import AgentDirectory
from projections.summary import summarize

PAGE = 1_000


@dataclass(frozen=True)
class EventFilter:
    session_id: UUID | None = None
    agent: str | None = None  # agent name, case-insensitive


def format_event(event: RecordedEvent, who: str) -> str:
    at = event.timestamp.strftime("%Y-%m-%d %H:%M:%S")
    what = summarize(event.payload)
    return f"#{event.notification_id:<7} {at}  {who:<22} {event.event_type:<22} {what}"


class EventLines:
    """Reads the log in order from a position, keeping the events a filter selects."""

    def __init__(self, conninfo: str, where: EventFilter, after: int = 0) -> None:
        self.conninfo = conninfo
        self.where = where
        self.position = after
        self.directory = AgentDirectory()
        self.stopping = threading.Event()

    def lines(self, conn: Connection) -> Iterator[str]:
        """Formatted lines for every selected event after the position, up to the head."""
        while events := read_events(conn, self.position, PAGE):
            self.directory.learn(events)
            with conn.cursor() as cur:
                for event in events:
                    who = self._who(cur, event)
                    if who is not None:
                        yield format_event(event, who)
            self.position = events[-1].notification_id

    def _who(self, cur: Cursor, event: RecordedEvent) -> str | None:
        """The event's author for display, or None when the filter rejects it."""
        name = None
        if event.stream_type == "agent":
            name = self.directory.lookup(cur, event.stream_id).name
        if self.where.agent is not None and (name or "").lower() != self.where.agent.lower():
            return None
        wanted_session = self.where.session_id
        if wanted_session is not None and self.directory.session_of(cur, event) != wanted_session:
            return None
        if name is not None:
            return f"agent:{name}"
        return f"{event.stream_type}:{str(event.stream_id)[:8]}"

    def follow(self, out: TextIO, poll_seconds: float = 1.0) -> None:
        """Print what is there, then new events as they are appended, until stopped."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(EVENTS_TABLE)))
            while not self.stopping.is_set():
                for line in self.lines(conn):
                    print(line, file=out, flush=True)
                for _ in conn.notifies(timeout=poll_seconds, stop_after=1):
                    pass

    def print_all(self, out: TextIO) -> int:
        count = 0
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            for line in self.lines(conn):
                print(line, file=out)
                count += 1
        return count
