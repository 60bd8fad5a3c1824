"""How podium sorts what happens: the category of each event, the system log's levels.

Defined once, here: the agent-logs projector stores the category, the
gateway filters streams and pages by it, and the UI gets both lists from
``GET /api/meta``.
"""

from __future__ import annotations

from enum import StrEnum

from domain import agent as a
from domain import session as s
from domain import system_log as system
from domain.codec import PodiumEventType


class Category(StrEnum):
    CHAT = "chat"  # the person and the orchestrator
    MESSAGE = "message"  # an agent's text
    THINKING = "thinking"
    TOOL = "tool"
    FILE = "file"
    HOOK = "hook"
    RESULT = "result"  # a turn's usage and cost
    LIFECYCLE = "lifecycle"  # created, commanded, statuses, deletion
    SYSTEM = "system"  # podium's own system log


class Level(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


CATEGORIES: dict[PodiumEventType, Category] = {
    a.AgentCreated: Category.LIFECYCLE,
    a.AgentCommanded: Category.LIFECYCLE,
    a.AgentStatusChanged: Category.LIFECYCLE,
    a.AgentInterrupted: Category.LIFECYCLE,
    a.AgentFailed: Category.LIFECYCLE,
    a.AgentInterruptRequested: Category.LIFECYCLE,
    a.BudgetExceeded: Category.LIFECYCLE,
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
    system.SystemLogged: Category.SYSTEM,
    system.SystemLogOpened: Category.SYSTEM,
}


def category_of(event_class: PodiumEventType) -> Category:
    """The event's category; an event not listed is part of its stream's lifecycle."""
    return CATEGORIES.get(event_class, Category.LIFECYCLE)
