"""The costs read model: spend per session, actor, model and day."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain import agent as a
from domain import session as s
from eventlog.reading import RecordedEvent
from projections.projector import Projector, Tables, usd

KEY = {"session_id": "uuid", "actor_id": "uuid", "model": "text", "day": "date"}


class CostsProjector(Projector):
    name = "costs"
    weight = 0.3
    events = frozenset({s.TurnCompleted, a.TurnCompleted})

    def apply(self, events: Sequence[RecordedEvent], tables: Tables) -> None:
        turns: list[tuple[tuple[Any, ...], str, str, RecordedEvent]] = []
        for event in events:
            p = event.payload
            day = event.timestamp.date()
            if isinstance(p, s.SessionTurnCompletedV1):
                key = (event.stream_id, event.stream_id, p.model, day)
                turns.append((key, "orchestrator", "orchestrator", event))
            elif isinstance(p, a.AgentTurnCompletedV1):
                who = self.directory.lookup(tables.cur, event.stream_id)
                key = (who.session_id, event.stream_id, p.model, day)
                turns.append((key, "agent", who.name, event))
        if not turns:
            return
        rows = tables.keyed(self.name, KEY)
        rows.load(key for key, *_ in turns)
        for key, kind, name, event in turns:
            p = event.payload
            assert isinstance(p, s.SessionTurnCompletedV1 | a.AgentTurnCompletedV1)
            row = rows.get(key) or dict(
                zip(KEY, key, strict=True),
                actor_kind=kind,
                actor_name=name,
                turns=0,
                input_tokens=0,
                output_tokens=0,
                cache_creation_input_tokens=0,
                cache_read_input_tokens=0,
                cost_usd=0,
            )
            row["turns"] += 1
            row["input_tokens"] += p.usage.input_tokens
            row["output_tokens"] += p.usage.output_tokens
            row["cache_creation_input_tokens"] += p.usage.cache_creation_input_tokens
            row["cache_read_input_tokens"] += p.usage.cache_read_input_tokens
            row["cost_usd"] += usd(p.cost_usd)
            rows.put(key, row)
