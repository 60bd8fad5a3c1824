"""The agent logs read model: every event of every agent, with a summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from domain import agent as a
from projections.log import RecordedEvent
from projections.projector import Cursor, Projector, copy_rows
from projections.summary import summarize

COLUMNS = (
    "notification_id",
    "session_id",
    "agent_id",
    "agent_name",
    "task",
    "event_type",
    "category",
    "at",
    "summary",
    "payload",
)

CATEGORIES: dict[type, str] = {
    a.AgentCreated: "lifecycle",
    a.AgentCommanded: "lifecycle",
    a.AgentStatusChanged: "lifecycle",
    a.AgentInterrupted: "lifecycle",
    a.AgentFailed: "lifecycle",
    a.AgentInterruptRequested: "lifecycle",
    a.BudgetExceeded: "lifecycle",
    a.HookFired: "hook",
    a.AgentDeleted: "lifecycle",
    a.AgentTextEmitted: "message",
    a.AgentThinkingEmitted: "thinking",
    a.ToolUseRequested: "tool",
    a.ToolUseCompleted: "tool",
    a.FileChanged: "file",
    a.TurnCompleted: "result",
}

_encode = msgspec.json.Encoder().encode


class AgentLogsProjector(Projector):
    name = "agent_logs"

    def apply(self, events: Sequence[RecordedEvent], cur: Cursor) -> None:
        rows: list[tuple[Any, ...]] = []
        summaries: list[tuple[str, int]] = []
        for e in events:
            category = CATEGORIES.get(e.event_class)
            if category is not None:
                who = self.directory.lookup(cur, e.stream_id)
                p = e.payload
                rows.append(
                    (
                        e.notification_id,
                        who.session_id,
                        e.stream_id,
                        who.name,
                        getattr(p, "task", None),
                        e.event_type,
                        category,
                        e.timestamp,
                        summarize(p),
                        _encode(p).decode(),
                    )
                )
            elif isinstance(e.payload, a.EventSummarizedV1):
                summaries.append((e.payload.summary, e.payload.notification_id))
        copy_rows(cur, self.name, COLUMNS, rows)
        if summaries:
            cur.executemany(
                "UPDATE agent_logs SET ai_summary = %s WHERE notification_id = %s", summaries
            )
