"""The payloads of the Agent's events: what each event says, schema-versioned.

Old versions stay here with their ``upcast()``; the store is never rewritten.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.events import Payload, Usage


class AgentCreatedV1(Payload, frozen=True):
    """The first schema: no template, tools, permissions or budget."""

    session_id: UUID
    name: str
    model: str
    system_prompt: str
    cwd: str

    def upcast(self) -> AgentCreatedV2:
        return AgentCreatedV2(
            session_id=self.session_id,
            name=self.name,
            incarnation=0,
            model=self.model,
            system_prompt=self.system_prompt,
            template=None,
            cwd=self.cwd,
        )


class AgentCreatedV2(Payload, frozen=True, tag=2):
    session_id: UUID
    name: str
    incarnation: int
    model: str
    system_prompt: str
    template: str | None
    cwd: str
    allowed_tools: tuple[str, ...] = ()
    permission_mode: str = "acceptEdits"
    budget_usd: float | None = None


class AgentCommandedV1(Payload, frozen=True):
    command: str
    task: str
    source: str


class AgentStatusChangedV1(Payload, frozen=True):
    status: str
    reason: str
    task: str | None


class TextV1(Payload, frozen=True):
    task: str | None
    text: str


class ToolUseRequestedV1(Payload, frozen=True):
    task: str | None
    tool_use_id: str
    tool: str
    input: dict[str, Any]


class ToolUseCompletedV1(Payload, frozen=True):
    task: str | None
    tool_use_id: str
    tool: str
    output: Any
    is_error: bool = False


class FileChangedV1(Payload, frozen=True):
    task: str | None
    path: str
    change: str  # "created" | "modified" | "deleted"
    diff: str


class AgentTurnCompletedV1(Payload, frozen=True):
    task: str | None
    model: str
    usage: Usage
    cost_usd: float
    duration_ms: int
    num_turns: int
    claude_session_id: str
    is_error: bool = False


class AgentInterruptedV1(Payload, frozen=True):
    task: str | None
    reason: str


class AgentInterruptRequestedV1(Payload, frozen=True):
    task: str | None
    source: str


class HookFiredV1(Payload, frozen=True):
    task: str | None
    hook: str
    tool: str | None
    data: dict[str, Any]


class BudgetExceededV1(Payload, frozen=True):
    task: str | None
    scope: str  # "agent" | "session"
    budget_usd: float
    spent_usd: float


class AgentFailedV1(Payload, frozen=True):
    task: str | None
    error: str


class AgentDeletedV1(Payload, frozen=True):
    reason: str


class EventSummarizedV1(Payload, frozen=True):
    notification_id: int
    summary: str
