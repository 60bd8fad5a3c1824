"""`podium events`: print the log, and follow it live like `tail -f`.

Each event is a line of what the browser sees of it (projections.event_view):
its id, time, who, type and summary.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO
from uuid import UUID

import psycopg

from eventlog.following import listening_blocking
from eventlog.reading import Connection
from projections.event_view import PAGE, EventView, LogReader


@dataclass(frozen=True)
class EventFilter:
    session_id: UUID | None = None
    agent: str | None = None  # agent name, case-insensitive


def format_event(event: EventView) -> str:
    at = event.at.strftime("%Y-%m-%d %H:%M:%S")
    who = f"agent:{event.agent}" if event.agent else f"{event.stream_type}:{event.stream_id!s:.8}"
    return f"#{event.id:<7} {at}  {who:<22} {event.type:<22} {event.summary}"


class EventLines:
    """Reads the log in order from a position, keeping the events a filter selects."""

    def __init__(self, conninfo: str, where: EventFilter, after: int = 0) -> None:
        self.conninfo = conninfo
        self.where = where
        self.position = after
        self.reader = LogReader()
        self.stopping = threading.Event()

    def lines(self, conn: Connection) -> Iterator[str]:
        """Formatted lines for every selected event after the position, up to the head."""
        while events := self.reader.views_after(conn, self.position, PAGE):
            for event in events:
                if self._selects(event):
                    yield format_event(event)
            self.position = events[-1].id

    def _selects(self, event: EventView) -> bool:
        agent, session_id = self.where.agent, self.where.session_id
        if agent is not None and (event.agent or "").lower() != agent.lower():
            return False
        return session_id is None or event.session_id == session_id

    def follow(self, out: TextIO, poll_seconds: float = 1.0) -> None:
        """Print what is there, then new events as they are appended, until stopped."""
        with listening_blocking(self.conninfo, "podium events") as appends:
            while not self.stopping.is_set():
                for line in self.lines(appends.conn):
                    print(line, file=out, flush=True)
                appends.wait(poll_seconds)

    def print_all(self, out: TextIO) -> int:
        count = 0
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            for line in self.lines(conn):
                print(line, file=out)
                count += 1
        return count
