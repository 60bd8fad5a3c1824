"""The chat read model: the user, the orchestrator and the agents, in one conversation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain import agent as a
from domain import session as s
from projections.log import RecordedEvent
from projections.projector import Cursor, Projector, copy_rows
from projections.summary import summarize

COLUMNS = ("notification_id", "session_id", "at", "role", "author", "kind", "text", "agent_id")


class ChatProjector(Projector):
    name = "chat"

    def apply(self, events: Sequence[RecordedEvent], cur: Cursor) -> None:
        rows: list[tuple[Any, ...]] = []
        for e in events:
            p = e.payload
            base = (e.notification_id,)
            if isinstance(p, s.UserMessageSentV1):
                rows.append(
                    (*base, e.stream_id, e.timestamp, "user", "you", "message", p.text, None)
                )
            elif isinstance(p, s.OrchestratorRepliedV1):
                rows.append(
                    (
                        *base,
                        e.stream_id,
                        e.timestamp,
                        "orchestrator",
                        "orchestrator",
                        "message",
                        p.text,
                        None,
                    )
                )
            elif isinstance(p, s.OrchestratorToolUsedV1):
                rows.append(
                    (
                        *base,
                        e.stream_id,
                        e.timestamp,
                        "orchestrator",
                        "orchestrator",
                        "tool_use",
                        summarize(p),
                        None,
                    )
                )
            elif e.event_class is a.AgentTextEmitted:
                assert isinstance(p, a.TextV1)
                who = self.directory.lookup(cur, e.stream_id)
                rows.append(
                    (
                        *base,
                        who.session_id,
                        e.timestamp,
                        "agent",
                        who.name,
                        "message",
                        p.text,
                        e.stream_id,
                    )
                )
        copy_rows(cur, self.name, COLUMNS, rows)
