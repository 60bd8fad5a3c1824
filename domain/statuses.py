"""The statuses of agents and sessions: one vocabulary for the log, the read
models, the API and the UI (which gets them from ``GET /api/meta``)."""

from __future__ import annotations

from enum import StrEnum


class AgentStatus(StrEnum):
    IDLE = "idle"
    QUEUED = "queued"  # commands wait, none is running
    WORKING = "working"  # a turn is running (more may wait)
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    HIBERNATING = "hibernating"  # idle, and its Claude Code process is closed
    DELETED = "deleted"


# An agent with a turn running or commands waiting.
BUSY = frozenset({AgentStatus.WORKING, AgentStatus.QUEUED})


class SessionStatus(StrEnum):
    ACTIVE = "active"
    INTERRUPTED = "interrupted"  # the orchestrator's answer was cut short
    ENDED = "ended"
