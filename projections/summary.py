"""One line that says what an event was, for logs and the terminal."""

from __future__ import annotations

from typing import Any

from domain import agent as a
from domain import session as s
from domain import system_log as sl
from domain.events import Payload

MAX = 160


def shorten(text: str, limit: int = MAX) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _inputs(tool_input: dict[str, Any]) -> str:
    return ", ".join(f"{k}={shorten(str(v), 40)}" for k, v in tool_input.items())


def summarize(payload: Payload) -> str:
    """A readable one-liner for any podium payload."""
    match payload:
        case a.AgentCreatedV2():
            return f"created {payload.name} ({payload.model})"
        case a.AgentCommandedV1():
            return f"commanded by {payload.source}: {shorten(payload.command)}"
        case a.AgentStatusChangedV1():
            return f"status {payload.status}" + (f": {payload.reason}" if payload.reason else "")
        case a.TextV1():
            return shorten(payload.text)
        case a.ToolUseRequestedV1():
            return shorten(f"{payload.tool}({_inputs(payload.input)})")
        case a.ToolUseCompletedV1():
            outcome = "failed" if payload.is_error else "done"
            return shorten(f"{payload.tool} {outcome}: {payload.output}")
        case a.FileChangedV1():
            return f"{payload.change} {payload.path}"
        case a.AgentTurnCompletedV1() | s.SessionTurnCompletedV1():
            return (
                f"turn done: {payload.usage.total_tokens} tokens, ${payload.cost_usd:.4f}, "
                f"{payload.duration_ms} ms" + (" (error)" if payload.is_error else "")
            )
        case a.AgentInterruptedV1():
            return f"interrupted: {payload.reason}"
        case a.AgentInterruptRequestedV1():
            return f"interrupt requested by {payload.source}"
        case a.HookFiredV1():
            return f"hook {payload.hook}" + (f" ({payload.tool})" if payload.tool else "")
        case a.BudgetExceededV1():
            return (
                f"{payload.scope} budget ${payload.budget_usd:.2f} reached "
                f"(spent ${payload.spent_usd:.4f})"
            )
        case a.AgentFailedV1():
            return f"failed: {shorten(payload.error)}"
        case a.AgentDeletedV1():
            return "deleted" + (f": {payload.reason}" if payload.reason else "")
        case a.EventSummarizedV1():
            return f"summary of #{payload.notification_id}: {shorten(payload.summary)}"
        case s.SessionStartedV1():
            return f"session started: {payload.title or '(untitled)'} in {payload.cwd}"
        case s.UserMessageSentV1() | s.OrchestratorRepliedV1():
            return shorten(payload.text)
        case s.OrchestratorToolUsedV1():
            return shorten(f"{payload.tool}({_inputs(payload.input)})")
        case s.ReasonV1():
            return payload.reason
        case sl.SystemLoggedV1():
            return f"[{payload.level}] {shorten(payload.message)}"
        case sl.SystemLogOpenedV1():
            return f"system log for {payload.day}"
    return type(payload).__name__
