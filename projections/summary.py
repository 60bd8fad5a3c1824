"""One line that says what an event was, for logs and the terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain import agent as a
from domain import approval as ap
from domain import governance as g
from domain import session as s
from domain import summarizer as sm
from domain import system_log as sl
from domain.events import Payload

MAX = 160


def shorten(text: object, limit: int = MAX) -> str:
    """``text`` on one line (whitespace runs made one space), cut to ``limit`` characters.

    A rebuild shortens millions of texts, some of kilobytes, so this looks at
    as little as it can. A prefix one longer than ``limit`` decides the result
    when it has nothing to collapse: printable (so no whitespace but spaces),
    no two spaces in a row, none at either end. Otherwise, collapsing a prefix
    gives a prefix of the collapsed whole: once that is longer than
    ``limit``, the rest of the text cannot change the result.
    """
    full = str(text)
    line = full[: limit + 1]
    if not line.isprintable() or "  " in line or line[:1] == " " or line[-1:] == " ":
        window = full[: 2 * limit]
        line = " ".join(window.split())
        if len(line) <= limit and len(window) < len(full):  # mostly whitespace: all of it
            line = " ".join(full.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _inputs(tool_input: dict[str, Any]) -> str:
    return ", ".join([f"{k}={shorten(v, 40)}" for k, v in tool_input.items()])


def summarize(payload: Payload) -> str:
    """A readable one-liner for any podium payload."""
    line = _LINES.get(type(payload))
    if line is None:  # not registered as such: maybe a subclass of a kind that is
        kind = next((k for k in type(payload).__mro__ if k in _LINES), None)
        if kind is None:
            return type(payload).__name__
        line = _LINES[kind]
    return line(payload)


# Each kind of payload's one-liner, found by type: a rebuild summarizes
# millions of events, and a dict finds the line at once where a match would
# try its cases one by one.

Line = Callable[[Any], str]
_LINES: dict[type, Line] = {}


def _says(*kinds: type[Payload]) -> Callable[[Line], Line]:
    def register(line: Line) -> Line:
        _LINES.update(dict.fromkeys(kinds, line))
        return line

    return register


@_says(a.ToolUseCompletedV1)
def _tool_completed(p: a.ToolUseCompletedV1) -> str:
    outcome = "failed" if p.is_error else "done"
    return shorten(f"{p.tool} {outcome}: {p.output}")


@_says(a.ToolUseRequestedV1, s.OrchestratorToolUsedV1)
def _tool_used(p: a.ToolUseRequestedV1 | s.OrchestratorToolUsedV1) -> str:
    return shorten(f"{p.tool}({_inputs(p.input)})")


@_says(a.TextV1, s.UserMessageSentV1, s.OrchestratorRepliedV1)
def _text(p: a.TextV1 | s.UserMessageSentV1 | s.OrchestratorRepliedV1) -> str:
    return shorten(p.text)


@_says(a.AgentTurnCompletedV1, s.SessionTurnCompletedV1)
def _turn_completed(p: a.AgentTurnCompletedV1 | s.SessionTurnCompletedV1) -> str:
    return f"turn done: {p.usage.total_tokens} tokens, ${p.cost_usd:.4f}, {p.duration_ms} ms" + (
        " (error)" if p.is_error else ""
    )


@_says(a.FileChangedV2)
def _file_changed(p: a.FileChangedV2) -> str:
    if p.previous_path is not None:
        return f"{p.change} {p.previous_path} → {p.path}"
    return f"{p.change} {p.path}"


@_says(a.AgentCommandedV1)
def _commanded(p: a.AgentCommandedV1) -> str:
    return f"commanded by {p.source}: {shorten(p.command)}"


@_says(a.AgentCreatedV2)
def _created(p: a.AgentCreatedV2) -> str:
    return f"created {p.name} ({p.model})"


@_says(a.AgentStatusChangedV1)
def _status_changed(p: a.AgentStatusChangedV1) -> str:
    return f"status {p.status}" + (f": {p.reason}" if p.reason else "")


@_says(a.AgentInterruptedV1)
def _interrupted(p: a.AgentInterruptedV1) -> str:
    return f"interrupted: {p.reason}"


@_says(a.AgentInterruptRequestedV1)
def _interrupt_requested(p: a.AgentInterruptRequestedV1) -> str:
    return f"interrupt requested by {p.source}"


@_says(a.HookFiredV1)
def _hook_fired(p: a.HookFiredV1) -> str:
    return f"hook {p.hook}" + (f" ({p.tool})" if p.tool else "")


@_says(a.BudgetExceededV1)
def _budget_exceeded(p: a.BudgetExceededV1) -> str:
    return f"{p.scope} budget ${p.budget_usd:.2f} reached (spent ${p.spent_usd:.4f})"


@_says(g.BudgetSetV1)
def _budget_set(p: g.BudgetSetV1) -> str:
    limit = "removed" if p.budget_usd is None else f"${p.budget_usd:.2f}"
    return f"budget {limit} (by {p.by})"


@_says(g.BudgetWarnedV1)
def _budget_warned(p: g.BudgetWarnedV1) -> str:
    return f"{p.scope} budget {p.percent}% spent (${p.spent_usd:.4f} of ${p.budget_usd:.2f})"


@_says(g.PermissionRulesSetV1)
def _rules_set(p: g.PermissionRulesSetV1) -> str:
    lists = [f"{o}: {', '.join(r)}" for o, r in p.rules.settings().items() if r]
    return shorten("permission rules set: " + ("; ".join(lists) or "none"))


@_says(g.PermissionRuleAddedV1)
def _rule_added(p: g.PermissionRuleAddedV1) -> str:
    return shorten(f"permission rule added: {p.outcome} {p.rule}")


@_says(ap.ApprovalRequestedV1)
def _approval_requested(p: ap.ApprovalRequestedV1) -> str:
    return shorten(f"{p.agent} asks to use {p.tool}: {_inputs(p.input)}")


@_says(ap.ApprovalGrantedV1)
def _approval_granted(p: ap.ApprovalGrantedV1) -> str:
    return f"allowed ({p.scope}) by {p.by}"


@_says(ap.ApprovalDeniedV1)
def _approval_denied(p: ap.ApprovalDeniedV1) -> str:
    return shorten(f"denied by {p.by}" + (f": {p.message}" if p.message else ""))


@_says(ap.ApprovalExpiredV1)
def _approval_expired(p: ap.ApprovalExpiredV1) -> str:
    return shorten(f"expired: {p.reason}")


@_says(a.CostDiscrepancyV1)
def _cost_discrepancy(p: a.CostDiscrepancyV1) -> str:
    return f"cost discrepancy on {p.model}: CLI ${p.cli_cost_usd:.4f}, podium ${p.priced_usd:.4f}"


@_says(a.AgentFailedV1)
def _failed(p: a.AgentFailedV1) -> str:
    return f"failed: {shorten(p.error)}"


@_says(a.AgentDeletedV1)
def _deleted(p: a.AgentDeletedV1) -> str:
    return "deleted" + (f": {p.reason}" if p.reason else "")


@_says(sm.EventSummarizedV1)
def _summarized(p: sm.EventSummarizedV1) -> str:
    return f"summary of #{p.notification_id}: {shorten(p.summary)}"


@_says(s.SessionStartedV1)
def _session_started(p: s.SessionStartedV1) -> str:
    return f"session started: {p.title or '(untitled)'} in {p.cwd}"


@_says(s.ReasonV1)
def _reason(p: s.ReasonV1) -> str:
    return p.reason


@_says(sl.SystemLoggedV1)
def _system_logged(p: sl.SystemLoggedV1) -> str:
    return f"[{p.level}] {shorten(p.message)}"


@_says(sl.SystemLogOpenedV1)
def _system_log_opened(p: sl.SystemLogOpenedV1) -> str:
    return f"system log for {p.day}"
