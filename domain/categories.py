"""The category of each event: what a log shows it as (chat, tool, file, ...)."""

from __future__ import annotations

from domain import agent as a
from domain import approval as ap
from domain import session as s
from domain import summarizer as sm
from domain import system_log as system
from domain.codec import PodiumEventType
from domain.vocabulary import Category

CATEGORIES: dict[PodiumEventType, Category] = {
    a.AgentCreated: Category.LIFECYCLE,
    a.AgentCommanded: Category.LIFECYCLE,
    a.AgentStatusChanged: Category.LIFECYCLE,
    a.AgentInterrupted: Category.LIFECYCLE,
    a.AgentFailed: Category.LIFECYCLE,
    a.AgentInterruptRequested: Category.LIFECYCLE,
    a.BudgetExceeded: Category.BUDGET,
    a.CostDiscrepancy: Category.RESULT,
    a.BudgetSet: Category.BUDGET,
    a.BudgetWarned: Category.BUDGET,
    a.PermissionRuleAdded: Category.PERMISSIONS,
    a.AgentDeleted: Category.LIFECYCLE,
    a.HookFired: Category.HOOK,
    a.AgentTextEmitted: Category.MESSAGE,
    a.AgentThinkingEmitted: Category.THINKING,
    a.ToolUseRequested: Category.TOOL,
    a.ToolUseCompleted: Category.TOOL,
    a.FileChanged: Category.FILE,
    a.TurnCompleted: Category.RESULT,
    s.UserMessageSent: Category.CHAT,
    s.OrchestratorReplied: Category.CHAT,
    s.OrchestratorToolUsed: Category.TOOL,
    s.TurnCompleted: Category.RESULT,
    s.CostDiscrepancy: Category.RESULT,
    s.BudgetSet: Category.BUDGET,
    s.BudgetWarned: Category.BUDGET,
    s.PermissionRulesSet: Category.PERMISSIONS,
    s.PermissionRuleAdded: Category.PERMISSIONS,
    ap.ApprovalRequested: Category.APPROVAL,
    ap.ApprovalGranted: Category.APPROVAL,
    ap.ApprovalDenied: Category.APPROVAL,
    ap.ApprovalExpired: Category.APPROVAL,
    system.SystemLogged: Category.SYSTEM,
    system.SystemLogOpened: Category.SYSTEM,
    sm.SummariesOpened: Category.SUMMARY,
    sm.EventSummarized: Category.SUMMARY,
    sm.SummarizerCalled: Category.SUMMARY,
    sm.SummarizerFailed: Category.SUMMARY,
}


def category_of(event_class: PodiumEventType) -> Category:
    """The event's category; an event not listed is part of its stream's lifecycle."""
    return CATEGORIES.get(event_class, Category.LIFECYCLE)
