"""The agents read model: each agent's status, model, tokens (cache writes and
reads among them, its sub-agents' included), cost, budget, task, how many
commands wait for their turn, and the latest AI summary of what it did.
``cost_usd`` is the CLI's, as budgets count it; ``priced_usd`` beside it is
podium's price of the same tokens (projections/read_models/costs.py says more).

Statuses follow the agent's one transition table (domain/statuses.py), step
for step as the Agent aggregate follows it (``domain.agent.status_step``), so
the row says what the aggregate says."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain import agent as a
from domain.codec import PodiumEventType
from domain.governance import BudgetSetV1, BudgetWarnedV1
from domain.statuses import AgentStatus, next_status
from domain.summarizer import EventSummarized, EventSummarizedV1
from eventlog.reading import RecordedEvent, events_of
from projections.projector import Projector, Tables, usd

Row = dict[str, Any]


class AgentsProjector(Projector):
    name = "agents"
    weight = 0.5
    # Every agent event is the agent's latest activity; a summary of one is not.
    events = events_of(a) | {EventSummarized}

    def apply(self, events: Sequence[RecordedEvent], tables: Tables) -> None:
        rows = tables.keyed(self.name, {"agent_id": "uuid"})
        rows.load((_agent_of(e),) for e in events if e.event_class is not a.AgentCreated)
        folds, stepping = _FOLDS, _STEPPING
        agent_id, row = None, None  # an agent's events come in runs: its row stays at hand
        for event in events:
            if event.event_class is EventSummarized:
                _summarized(rows.touch((_agent_of(event),)), event.payload)
                agent_id = None
                continue
            if event.event_class is a.AgentCreated:
                agent_id, row = event.stream_id, self._new_row(event)
                rows.put((agent_id,), row)
                continue
            if event.stream_id is not agent_id:
                agent_id, row = event.stream_id, rows.touch((event.stream_id,))
            if row is not None:
                row["last_activity_at"] = event.timestamp
                cls, payload = event.event_class, event.payload
                fold = folds.get(cls)
                if fold is not None:
                    fold(row, payload, event.timestamp)
                if cls in stepping:
                    step = a.status_step(cls, payload)
                    assert step is not None
                    row["status"] = next_status(row["status"], step, row["queued"] > 0).value

    @staticmethod
    def _new_row(event: RecordedEvent) -> Row:
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
            "status": AgentStatus.IDLE.value,
            "current_task": None,
            "queued": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation_1h_input_tokens": 0,
            "cost_usd": 0,
            "priced_usd": 0,
            "unpriced_turns": 0,
            "discrepancies": 0,
            "budget_usd": None if p.budget_usd is None else usd(p.budget_usd),
            "budget_warned": 0,
            "turns": 0,
            "tool_uses": 0,
            "claude_session_id": None,
            "created_at": event.timestamp,
            "last_activity_at": event.timestamp,
            "deleted_at": None,
            "summary": None,
            "summary_of": None,
        }


def _agent_of(event: RecordedEvent) -> UUID:
    p = event.payload
    return p.agent_id if isinstance(p, EventSummarizedV1) else event.stream_id


def _summarized(row: Row | None, p: Any) -> None:
    """The latest summary: of the agent's latest summarized event (summaries
    caught up newest first arrive out of order)."""
    assert isinstance(p, EventSummarizedV1)
    if row is not None and (row["summary_of"] is None or p.notification_id > row["summary_of"]):
        row["summary"], row["summary_of"] = p.summary, p.notification_id


# How each kind of event changes its agent's row, beyond last_activity_at and
# its status. A table rather than a match: most of a log is agent events, and
# a dict finds the rule at once where a match tries the cases in turn.


def _commanded(row: Row, p: Any, at: datetime) -> None:
    assert isinstance(p, a.AgentCommandedV2)
    if p.queued:
        row["queued"] += 1
    else:  # a V1 command: its turn began at once
        row["current_task"] = p.task


def _status_changed(row: Row, p: Any, at: datetime) -> None:
    assert isinstance(p, a.AgentStatusChangedV2)
    row["status"] = p.status
    if p.started:
        row["current_task"] = p.task
        row["queued"] = max(row["queued"] - 1, 0)
    if p.dropped:
        row["queued"] = max(row["queued"] - len(p.dropped), 0)


def _tool_requested(row: Row, p: Any, at: datetime) -> None:
    row["tool_uses"] += 1


def _turn_completed(row: Row, p: Any, at: datetime) -> None:
    assert isinstance(p, a.AgentTurnCompletedV1)
    usage = p.usage
    row["input_tokens"] += usage.input_tokens
    row["output_tokens"] += usage.output_tokens
    row["cache_creation_input_tokens"] += usage.cache_creation_input_tokens
    row["cache_read_input_tokens"] += usage.cache_read_input_tokens
    row["cache_creation_1h_input_tokens"] += usage.cache_creation_1h_input_tokens
    row["cost_usd"] += usd(p.cost_usd)
    priced = p.priced_usd if isinstance(p, a.AgentTurnCompletedV2) else None
    if priced is None:
        row["unpriced_turns"] += 1
    else:
        row["priced_usd"] += usd(priced)
    row["turns"] += 1
    row["claude_session_id"] = p.claude_session_id


def _budget_set(row: Row, p: Any, at: datetime) -> None:
    assert isinstance(p, BudgetSetV1)
    row["budget_usd"] = None if p.budget_usd is None else usd(p.budget_usd)
    row["budget_warned"] = 0


def _budget_warned(row: Row, p: Any, at: datetime) -> None:
    assert isinstance(p, BudgetWarnedV1)
    row["budget_warned"] = p.percent


def _cost_discrepancy(row: Row, p: Any, at: datetime) -> None:
    row["discrepancies"] += 1


def _deleted(row: Row, p: Any, at: datetime) -> None:
    row["deleted_at"] = at


_FOLDS: dict[PodiumEventType, Callable[[Row, Any, datetime], None]] = {
    a.AgentCommanded: _commanded,
    a.AgentStatusChanged: _status_changed,
    a.ToolUseRequested: _tool_requested,
    a.TurnCompleted: _turn_completed,
    a.AgentDeleted: _deleted,
    a.BudgetSet: _budget_set,
    a.BudgetWarned: _budget_warned,
    a.CostDiscrepancy: _cost_discrepancy,
}
_STEPPING = frozenset(a.STEPS)  # the events that move the status a step
