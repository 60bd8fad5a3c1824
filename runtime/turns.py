"""Usage and cost of one turn, from the SDK's ResultMessage.

What the CLI reports, and what of it the log records:

- ``usage``: the main agent loop's tokens of this turn only (a Task
  sub-agent's calls are not in it), with the cache writes split by time to
  live in ``usage.cache_creation``.
- ``model_usage`` (the CLI's ``modelUsage``): per model, every call of the
  process's query so far, sub-agents' included, each with the CLI's cost and
  its cache writes split (``cacheCreationEphemeral1hInputTokens``).
- ``total_cost_usd``: the running total of those costs.

The totals are running totals for the CLI process, so a turn's share is the
difference from the previous result's in the same process. podium always
resumes from the session store, and a store-backed resume starts the CLI's
totals at 0, so every new process starts a new baseline (and a total that
went down is taken as one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claude_agent_sdk import ResultMessage

from domain.agent_rules import TurnReport
from domain.events import ModelTokens, Usage


def _count(raw: Mapping[str, Any], key: str) -> int:
    return int(raw.get(key) or 0)


def usage_of(result: ResultMessage) -> Usage:
    """The main loop's tokens of the turn (``result.usage``)."""
    return Usage.from_api(result.usage or {})


def _model_tokens(model: str, raw: Mapping[str, Any]) -> ModelTokens:
    return ModelTokens(
        model=model,
        input_tokens=_count(raw, "inputTokens"),
        output_tokens=_count(raw, "outputTokens"),
        cache_creation_input_tokens=_count(raw, "cacheCreationInputTokens"),
        cache_creation_1h_input_tokens=_count(raw, "cacheCreationEphemeral1hInputTokens"),
        cache_read_input_tokens=_count(raw, "cacheReadInputTokens"),
        cost_usd=float(raw.get("costUSD") or 0.0),
    )


_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_creation_1h_input_tokens",
    "cache_read_input_tokens",
    "cost_usd",
)


def _since(now: ModelTokens, before: ModelTokens | None) -> ModelTokens:
    """What a model's running totals grew by; all of them when any went down
    (a new baseline)."""
    if before is None or any(getattr(now, f) < getattr(before, f) for f in _COUNTS):
        return now
    grown = {f: getattr(now, f) - getattr(before, f) for f in _COUNTS}
    return ModelTokens(model=now.model, **grown)


def _spent(share: ModelTokens) -> bool:
    return any(getattr(share, f) for f in _COUNTS)


def usage_of_models(shares: tuple[ModelTokens, ...]) -> Usage:
    """A turn's tokens over every model it used, each model's share kept."""
    return Usage(
        input_tokens=sum(s.input_tokens for s in shares),
        output_tokens=sum(s.output_tokens for s in shares),
        cache_creation_input_tokens=sum(s.cache_creation_input_tokens for s in shares),
        cache_read_input_tokens=sum(s.cache_read_input_tokens for s in shares),
        cache_creation_1h_input_tokens=sum(s.cache_creation_1h_input_tokens for s in shares),
        models=shares,
    )


class TurnCosts:
    """Turns a process's running totals (cost, and tokens per model) into each
    turn's own."""

    def __init__(self) -> None:
        self._total = 0.0
        self._models: dict[str, ModelTokens] = {}

    def restart(self) -> None:
        """A new CLI process: its running totals start again from zero."""
        self._total = 0.0
        self._models = {}

    def turn_cost(self, result: ResultMessage) -> float:
        total = result.total_cost_usd or 0.0
        cost = total - self._total if total >= self._total else total
        self._total = total
        return max(cost, 0.0)

    def turn_usage(self, result: ResultMessage) -> Usage:
        """The turn's tokens, sub-agents' included, per model where the CLI
        says (``model_usage``); else the main loop's (``usage``)."""
        if not result.model_usage:
            return usage_of(result)
        now = {model: _model_tokens(model, dict(raw)) for model, raw in result.model_usage.items()}
        shares = tuple(
            share
            for model, totals in now.items()
            if _spent(share := _since(totals, self._models.get(model)))
        )
        self._models = now
        return usage_of_models(shares)

    def report(self, result: ResultMessage) -> TurnReport:
        """What the turn that ``result`` ends reports, for its agent to decide on."""
        return TurnReport(
            usage=self.turn_usage(result),
            cost_usd=self.turn_cost(result),
            duration_ms=result.duration_ms,
            num_turns=result.num_turns,
            claude_session_id=result.session_id,
            is_error=result.is_error,
            error="; ".join(result.errors or []) or result.result or result.subtype,
        )
