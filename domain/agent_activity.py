"""What an agent does while it works, recorded as it happens: text, thinking,
tool uses, file changes, hooks, the turn's usage and cost. No rule decides
here (the Agent aggregate in domain/agent.py decides); these only record.

The events are domain.agent's (their topics name that module, and stored
topics never change). domain.agent imports this module for its base class,
so this module imports domain.agent last, once ``AgentActivity`` exists: in
either order of first import, each finds what it needs of the other.
"""

from __future__ import annotations

from typing import Any

from domain.agent_payloads import (
    AgentTurnCompletedV2,
    BudgetExceededV1,
    FileChangedV2,
    HookFiredV1,
    TextV1,
    ToolUseCompletedV1,
    ToolUseRequestedV1,
)
from domain.aggregate import PodiumAggregate
from domain.events import Usage, check_cost
from domain.file_changes import FileChange, capped
from domain.prices import PRICES, discrepancies


class AgentActivity(PodiumAggregate):
    """The recording half of the Agent aggregate."""

    model: str
    task: str | None

    def emit_text(self, text: str) -> None:
        self.trigger_event(events.AgentTextEmitted, payload=TextV1(task=self.task, text=text))

    def emit_thinking(self, text: str) -> None:
        self.trigger_event(events.AgentThinkingEmitted, payload=TextV1(task=self.task, text=text))

    def request_tool_use(self, tool_use_id: str, tool: str, tool_input: dict[str, Any]) -> None:
        payload = ToolUseRequestedV1(
            task=self.task, tool_use_id=tool_use_id, tool=tool, input=tool_input
        )
        self.trigger_event(events.ToolUseRequested, payload=payload)

    def complete_tool_use(
        self, tool_use_id: str, tool: str, output: Any, is_error: bool = False
    ) -> None:
        payload = ToolUseCompletedV1(
            task=self.task, tool_use_id=tool_use_id, tool=tool, output=output, is_error=is_error
        )
        self.trigger_event(events.ToolUseCompleted, payload=payload)

    def record_file_change(
        self,
        path: str,
        change: str,
        diff: str,
        *,
        tool: str,
        tool_use_id: str,
        previous_path: str | None = None,
    ) -> None:
        """A tool call changed a file (``change``: a FileChange); a diff past the
        cap is cut (domain.file_changes)."""
        kind = FileChange(change)
        if (previous_path is not None) != (kind is FileChange.RENAMED):
            raise ValueError("a renamed file, and only a renamed one, has a previous path")
        recorded, cut_from = capped(diff)
        payload = FileChangedV2(
            task=self.task,
            path=path,
            change=kind.value,
            diff=recorded,
            tool=tool,
            tool_use_id=tool_use_id,
            previous_path=previous_path,
            diff_cut_from=cut_from,
        )
        self.trigger_event(events.FileChanged, payload=payload)

    def complete_turn(
        self,
        usage: Usage,
        *,
        cost_usd: float,
        duration_ms: int,
        num_turns: int,
        claude_session_id: str,
        is_error: bool = False,
    ) -> None:
        """Record the turn's tokens and the CLI's cost, with podium's price of
        the tokens beside it; a CostDiscrepancy for each model whose share the
        two price differently."""
        usage.check()
        check_cost(cost_usd)
        usage, priced = PRICES.priced(self.model, usage)
        payload = AgentTurnCompletedV2(
            task=self.task,
            model=self.model,
            usage=usage,
            cost_usd=cost_usd,
            duration_ms=duration_ms,
            num_turns=num_turns,
            claude_session_id=claude_session_id,
            is_error=is_error,
            priced_usd=priced,
        )
        self.trigger_event(events.TurnCompleted, payload=payload)
        for discrepancy in discrepancies(usage, self.task):
            self.trigger_event(events.CostDiscrepancy, payload=discrepancy)

    def fire_hook(self, hook: str, tool: str | None, data: dict[str, Any]) -> None:
        """A Claude Code hook ran (Stop, Notification, SubagentStart, PreCompact, ...)."""
        payload = HookFiredV1(task=self.task, hook=hook, tool=tool, data=data)
        self.trigger_event(events.HookFired, payload=payload)

    def exceed_budget(self, scope: str, budget_usd: float, spent_usd: float) -> None:
        """The agent's (or its session's) spend reached its budget."""
        payload = BudgetExceededV1(
            task=self.task, scope=scope, budget_usd=budget_usd, spent_usd=spent_usd
        )
        self.trigger_event(events.BudgetExceeded, payload=payload)


# Last: see the module's docstring.
from domain import agent as events  # noqa: E402
