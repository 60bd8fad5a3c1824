"""Usage and cost of one turn, from the SDK's ResultMessage.

``ResultMessage.total_cost_usd`` is a running total for the CLI process's
Claude session. The log records each turn's own cost, so sums over the log
stay right whatever happens to processes: a turn's cost is the difference
from the previous total in the same process. podium always resumes from the
session store, and a store-backed resume starts the CLI's total at 0, so
every new process starts a new baseline.
"""

from __future__ import annotations

from typing import Any

from claude_agent_sdk import ResultMessage

from domain.agent_rules import TurnReport
from domain.events import Usage


def usage_of(result: ResultMessage) -> Usage:
    raw: dict[str, Any] = result.usage or {}
    return Usage(
        input_tokens=int(raw.get("input_tokens") or 0),
        output_tokens=int(raw.get("output_tokens") or 0),
        cache_creation_input_tokens=int(raw.get("cache_creation_input_tokens") or 0),
        cache_read_input_tokens=int(raw.get("cache_read_input_tokens") or 0),
    )


def turn_report(result: ResultMessage, cost_usd: float) -> TurnReport:
    """What the turn that ``result`` ends reports, for its agent to decide on."""
    return TurnReport(
        usage=usage_of(result),
        cost_usd=cost_usd,
        duration_ms=result.duration_ms,
        num_turns=result.num_turns,
        claude_session_id=result.session_id,
        is_error=result.is_error,
        error="; ".join(result.errors or []) or result.result or result.subtype,
    )


class TurnCosts:
    """Turns a process's running cost total into per-turn costs."""

    def __init__(self) -> None:
        self._total = 0.0

    def restart(self) -> None:
        """A new CLI process: its running total starts again from zero."""
        self._total = 0.0

    def turn_cost(self, result: ResultMessage) -> float:
        total = result.total_cost_usd or 0.0
        cost = total - self._total if total >= self._total else total
        self._total = total
        return max(cost, 0.0)
