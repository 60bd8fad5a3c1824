"""The sessions read model: what the session picker shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from domain import agent as a
from domain import session as s
from domain.governance import BudgetSetV1
from domain.statuses import SessionStatus
from eventlog.reading import RecordedEvent, events_of, stream_type
from projections.projector import Projector, Tables, usd


class SessionsProjector(Projector):
    name = "sessions"
    weight = 0.5
    events = events_of(s) | {a.AgentCreated, a.AgentDeleted, a.TurnCompleted}

    def apply(self, events: Sequence[RecordedEvent], tables: Tables) -> None:
        mine: list[tuple[UUID, RecordedEvent]] = []
        for event in events:
            if stream_type(event.event_class) == "session":
                mine.append((event.stream_id, event))
            else:  # an agent's
                mine.append((self.directory.lookup(tables.cur, event.stream_id).session_id, event))
        if not mine:
            return
        rows = tables.keyed(self.name, {"session_id": "uuid"})
        rows.load((sid,) for sid, e in mine if e.event_class is not s.SessionStarted)
        for session_id, event in mine:
            key = (session_id,)
            p = event.payload
            if isinstance(p, s.SessionStartedV1):
                rows.put(
                    key,
                    {
                        "session_id": session_id,
                        "title": p.title,
                        "cwd": p.cwd,
                        "status": SessionStatus.ACTIVE.value,
                        "budget_usd": None if p.budget_usd is None else usd(p.budget_usd),
                        "started_at": event.timestamp,
                        "last_activity_at": event.timestamp,
                        "ended_at": None,
                        "messages": 0,
                        "agents": 0,
                        "turns": 0,
                        "input_tokens": 0,
                        "output_tokens": 0,
                        "cost_usd": 0,
                        "claude_session_id": None,
                    },
                )
            elif (row := rows.touch(key)) is not None:
                _fold(row, event)


def _fold(row: dict[str, Any], event: RecordedEvent) -> None:
    p = event.payload
    row["last_activity_at"] = event.timestamp
    match p:
        case s.UserMessageSentV1():
            row["messages"] += 1
        case a.AgentCreatedV2():
            row["agents"] += 1
        case a.AgentDeletedV1():
            row["agents"] -= 1
        case s.SessionTurnCompletedV1() | a.AgentTurnCompletedV1():
            row["turns"] += 1
            row["input_tokens"] += p.usage.input_tokens
            row["output_tokens"] += p.usage.output_tokens
            row["cost_usd"] += usd(p.cost_usd)
            if isinstance(p, s.SessionTurnCompletedV1):
                row["claude_session_id"] = p.claude_session_id
        case BudgetSetV1():
            row["budget_usd"] = None if p.budget_usd is None else usd(p.budget_usd)
        case s.ReasonV1():
            if event.event_class is s.SessionInterrupted:
                row["status"] = SessionStatus.INTERRUPTED.value
            elif event.event_class is s.SessionResumed:
                row["status"] = SessionStatus.ACTIVE.value
            elif event.event_class is s.SessionEnded:
                row["status"] = SessionStatus.ENDED.value
                row["ended_at"] = event.timestamp
