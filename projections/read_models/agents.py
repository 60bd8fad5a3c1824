"""The agents read model: each agent's status, model, tokens, cost and task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain import agent as a
from projections.log import RecordedEvent
from projections.projector import Cursor, KeyedRows, Projector, usd


class AgentsProjector(Projector):
    name = "agents"

    def apply(self, events: Sequence[RecordedEvent], cur: Cursor) -> None:
        mine = [e for e in events if e.stream_type == "agent"]
        if not mine:
            return
        rows = KeyedRows(self.name, {"agent_id": "uuid"})
        rows.load(cur, {(e.stream_id,) for e in mine if e.event_class is not a.AgentCreated})
        for event in mine:
            key = (event.stream_id,)
            if event.event_class is a.AgentCreated:
                rows.put(key, self._new_row(event))
            else:
                rows.update(key, lambda row, e=event: self._fold(row, e))  # type: ignore[misc]
        rows.save(cur)

    @staticmethod
    def _new_row(event: RecordedEvent) -> dict[str, Any]:
        p = event.payload
        assert isinstance(p, a.AgentCreatedV2)
        return {
            "agent_id": event.stream_id,
            "session_id": p.session_id,
            "name": p.name,
            "incarnation": p.incarnation,
            "model": p.model,
            "template": p.template,
            "cwd": p.cwd,
            "system_prompt": p.system_prompt,
            "status": "idle",
            "current_task": None,
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cost_usd": 0,
            "turns": 0,
            "tool_uses": 0,
            "claude_session_id": None,
            "created_at": event.timestamp,
            "last_activity_at": event.timestamp,
            "deleted_at": None,
        }

    @staticmethod
    def _fold(row: dict[str, Any], event: RecordedEvent) -> None:
        p = event.payload
        row["last_activity_at"] = event.timestamp
        match p:
            case a.AgentCommandedV1():
                row["status"] = "working"
                row["current_task"] = p.task
            case a.AgentStatusChangedV1():
                row["status"] = p.status
            case a.ToolUseRequestedV1():
                row["tool_uses"] += 1
            case a.AgentTurnCompletedV1():
                usage = p.usage
                row["input_tokens"] += usage.input_tokens
                row["output_tokens"] += usage.output_tokens
                row["cache_creation_input_tokens"] += usage.cache_creation_input_tokens
                row["cache_read_input_tokens"] += usage.cache_read_input_tokens
                row["cost_usd"] += usd(p.cost_usd)
                row["turns"] += 1
                row["claude_session_id"] = p.claude_session_id
                if row["status"] == "working":
                    row["status"] = "idle"
            case a.AgentInterruptedV1():
                row["status"] = "interrupted"
            case a.AgentFailedV1():
                row["status"] = "failed"
            case a.AgentDeletedV1():
                row["status"] = "deleted"
                row["deleted_at"] = event.timestamp
