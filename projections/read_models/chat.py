"""The chat read model: the user, the orchestrator and the agents, in one conversation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain import agent as a
from domain import session as s
from eventlog.reading import RecordedEvent
from projections.projector import Projector, Tables
from projections.summary import summarize

COLUMNS = ("notification_id", "session_id", "at", "role", "author", "kind", "text", "agent_id")


class ChatProjector(Projector):
    name = "chat"
    weight = 0.7
    events = frozenset(
        {s.UserMessageSent, s.OrchestratorReplied, s.OrchestratorToolUsed, a.AgentTextEmitted}
    )

    def apply(self, events: Sequence[RecordedEvent], tables: Tables) -> None:
        rows: list[tuple[Any, ...]] = []
        for e in events:
            p = e.payload
            if isinstance(p, s.UserMessageSentV1):
                rows.append(
                    (
                        e.notification_id,
                        e.stream_id,
                        e.timestamp,
                        "user",
                        "you",
                        "message",
                        p.text,
                        None,
                    )
                )
            elif isinstance(p, s.OrchestratorRepliedV1):
                rows.append(
                    (
                        e.notification_id,
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
                        e.notification_id,
                        e.stream_id,
                        e.timestamp,
                        "orchestrator",
                        "orchestrator",
                        "tool_use",
                        summarize(p),
                        None,
                    )
                )
            else:  # AgentTextEmitted
                assert isinstance(p, a.TextV1)
                who = self.directory.lookup(tables.cur, e.stream_id)
                rows.append(
                    (
                        e.notification_id,
                        who.session_id,
                        e.timestamp,
                        "agent",
                        who.name,
                        "message",
                        p.text,
                        e.stream_id,
                    )
                )
        tables.append(self.name, COLUMNS, rows)
