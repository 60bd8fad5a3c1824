"""The costs read model: spend per session, actor, model and day.

Every model a turn used has its own row: an agent's turn that ran a Task
sub-agent on another model counts that model's tokens and cost under it
(``Usage.models``, as the CLI reports them). Each row sums both costs of its
turns: ``cost_usd``, the CLI's, which budgets decide on, so that the read
model and the budget rule agree to the cent; and ``priced_usd``, podium's
price of the same tokens (domain/prices.py), the one to reconcile a bill
with. A turn podium could not price (a model its table does not know) is
counted in ``unpriced_turns`` instead.

The summarizer's model calls are an actor of their own ("summarizer", one
row per session, model and day: ``turns`` are its calls), apart from the
agents'. It has no CLI to price its calls, so both costs are podium's price.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from domain import agent as a
from domain import session as s
from domain import summarizer as sm
from domain.events import ModelTokens
from eventlog.reading import RecordedEvent
from projections.projector import Projector, Tables, usd

KEY = {"session_id": "uuid", "actor_id": "uuid", "model": "text", "day": "date"}
Key = tuple[Any, ...]
SUMMARIZER = "summarizer"  # its actor kind and name
Turn = s.SessionTurnCompletedV2 | a.AgentTurnCompletedV2  # read upcast to the latest


def _shares(p: Turn) -> Iterator[tuple[ModelTokens, Decimal]]:
    """Each model's share of the turn with its part of the turn's CLI cost
    (the last share takes what the others leave, so the parts sum to it exactly)."""
    priced = (
        p.priced_usd if isinstance(p, a.AgentTurnCompletedV2 | s.SessionTurnCompletedV2) else None
    )
    shares = p.usage.models or (p.usage.share(p.model, priced),)
    left = usd(p.cost_usd)
    for share in shares[:-1]:
        part = usd(share.cost_usd)
        left -= part
        yield share, part
    yield shares[-1], left


class CostsProjector(Projector):
    name = "costs"
    weight = 0.3
    events = frozenset(
        {
            s.TurnCompleted,
            s.CostDiscrepancy,
            a.TurnCompleted,
            a.CostDiscrepancy,
            sm.SummarizerCalled,
        }
    )

    def apply(self, events: Sequence[RecordedEvent], tables: Tables) -> None:
        changes: list[tuple[Key, str, str, ModelTokens | None, Decimal]] = []
        for event in events:
            p = event.payload
            day = event.timestamp.date()
            if event.event_class is s.TurnCompleted:
                assert isinstance(p, s.SessionTurnCompletedV2)
                for share, cost in _shares(p):
                    key = (event.stream_id, event.stream_id, share.model, day)
                    changes.append((key, "orchestrator", "orchestrator", share, cost))
                continue
            if event.event_class is s.CostDiscrepancy:
                assert isinstance(p, a.CostDiscrepancyV1)
                key = (event.stream_id, event.stream_id, p.model, day)
                changes.append((key, "orchestrator", "orchestrator", None, Decimal(0)))
                continue
            if isinstance(p, sm.SummarizerCalledV1):
                key = (p.session_id, event.stream_id, p.model, day)
                cost = usd(p.priced_usd or 0.0)
                changes.append(
                    (key, SUMMARIZER, SUMMARIZER, p.usage.share(p.model, p.priced_usd), cost)
                )
                continue
            who = self.directory.lookup(tables.cur, event.stream_id)
            if isinstance(p, a.AgentTurnCompletedV2):
                for share, cost in _shares(p):
                    key = (who.session_id, event.stream_id, share.model, day)
                    changes.append((key, "agent", who.name, share, cost))
            elif isinstance(p, a.CostDiscrepancyV1):
                key = (who.session_id, event.stream_id, p.model, day)
                changes.append((key, "agent", who.name, None, Decimal(0)))
        if not changes:
            return
        rows = tables.keyed(self.name, KEY)
        rows.load(key for key, *_ in changes)
        for key, kind, name, tokens, cost in changes:
            row = rows.get(key) or _new_row(key, kind, name)
            if tokens is None:  # a CostDiscrepancy
                row["discrepancies"] += 1
            else:
                _add(row, tokens, cost)
            rows.put(key, row)


def _new_row(key: Key, kind: str, name: str) -> dict[str, Any]:
    return dict(
        zip(KEY, key, strict=True),
        actor_kind=kind,
        actor_name=name,
        turns=0,
        input_tokens=0,
        output_tokens=0,
        cache_creation_input_tokens=0,
        cache_creation_1h_input_tokens=0,
        cache_read_input_tokens=0,
        cost_usd=0,
        priced_usd=0,
        unpriced_turns=0,
        discrepancies=0,
    )


def _add(row: dict[str, Any], share: ModelTokens, cost: Decimal) -> None:
    row["turns"] += 1
    row["input_tokens"] += share.input_tokens
    row["output_tokens"] += share.output_tokens
    row["cache_creation_input_tokens"] += share.cache_creation_input_tokens
    row["cache_creation_1h_input_tokens"] += share.cache_creation_1h_input_tokens
    row["cache_read_input_tokens"] += share.cache_read_input_tokens
    row["cost_usd"] += cost
    if share.priced_usd is None:
        row["unpriced_turns"] += 1
    else:
        row["priced_usd"] += usd(share.priced_usd)
