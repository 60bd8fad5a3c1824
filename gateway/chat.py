"""`podium chat`: talk to the orchestrator from a terminal.

Starts the whole system (as `podium up` does, without the web UI), sends each
message, and prints the session's log as it happens until the orchestrator
has answered and, unless --no-wait, the agents it set to work are done.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from typing import TextIO
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic

from domain import session as s
from domain.statuses import BUSY
from eventlog.postgres import EVENTS_TABLE
from eventlog.reading import HEAD
from gateway.event_lines import EventFilter, EventLines
from gateway.system import System

POLL_SECONDS = 0.2
TURNS = f"SELECT count(*) FROM {EVENTS_TABLE} WHERE originator_id = %s AND topic = %s"
BUSY_AGENTS = "SELECT count(*) FROM agents WHERE session_id = %s AND status = ANY(%s)"


async def chat(
    system: System,
    messages: Iterable[str],
    session_id: UUID | None,
    wait_for_agents: bool,
    out: TextIO = sys.stdout,
) -> UUID:
    """Send each message in turn and print what happens; returns the session id."""
    app = system.app
    start = _head(system)
    if session_id is None:
        session = await asyncio.to_thread(app.start_session, "chat", str(system.config.cwd))
        session_id = session.id
        print(f"session {session_id} (resume it with --session {session_id})", file=out)
    else:
        await asyncio.to_thread(app.get_session, session_id)  # a clear error if unknown
    tail = EventLines(system.conninfo, EventFilter(session_id=session_id), after=start)
    for message in messages:
        turns = _turns(system, session_id)
        await asyncio.to_thread(app.send_user_message, session_id, message)
        while not await _done(system, session_id, turns, wait_for_agents):
            _print_new(tail, out)
            await asyncio.sleep(POLL_SECONDS)
        _print_new(tail, out)
    return session_id


def typed_messages(prompt: str = "you> ") -> Iterable[str]:
    """Messages typed at the terminal, until end of input (Ctrl-D)."""
    while True:
        try:
            line = input(prompt)
        except EOFError:
            return
        if line.strip():
            yield line.strip()


def _print_new(tail: EventLines, out: TextIO) -> None:
    with psycopg.connect(tail.conninfo, autocommit=True) as conn:
        for line in tail.lines(conn):
            print(line, file=out, flush=True)


def _scalar(system: System, query: str, *params: object) -> int:
    with psycopg.connect(system.conninfo) as conn:
        row = conn.execute(query, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _head(system: System) -> int:
    return _scalar(system, HEAD)


def _turns(system: System, session_id: UUID) -> int:
    """How many turns the session's orchestrator has completed."""
    return _scalar(system, TURNS, session_id, get_topic(s.TurnCompleted))


async def _done(system: System, session_id: UUID, turns: int, wait_for_agents: bool) -> bool:
    if _turns(system, session_id) <= turns:
        return False
    if not wait_for_agents:
        return True
    await system.runtime.reads.caught_up()  # the agents' commands are in the read model
    busy = _scalar(system, BUSY_AGENTS, session_id, [status.value for status in BUSY])
    return busy == 0
