"""The words podium sorts what happens by: event categories, system log levels.

Defined once, here (which event has which category: domain/categories.py):
the agent-logs projector stores the category, the gateway filters streams
and pages by it and by level, and the UI gets both lists from ``GET /api/meta``.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    CHAT = "chat"  # the person and the orchestrator
    MESSAGE = "message"  # an agent's text
    THINKING = "thinking"
    TOOL = "tool"
    FILE = "file"
    HOOK = "hook"
    RESULT = "result"  # a turn's usage and cost
    LIFECYCLE = "lifecycle"  # created, commanded, statuses, deletion
    APPROVAL = "approval"  # a request for permission and its decision
    BUDGET = "budget"  # budgets set, warned about, spent
    PERMISSIONS = "permissions"  # rules set or added
    SYSTEM = "system"  # podium's own system log
    SUMMARY = "summary"  # the summarizer's summaries of events, and its model calls


class Level(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
