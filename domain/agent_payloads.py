"""The payloads of the Agent's events: what each event says, schema-versioned.

Old versions stay here with their ``upcast()``; the store is never rewritten.
"""

from __future__ import annotations

from typing import Any, NoReturn
from uuid import UUID

import msgspec

from domain.events import ModelTokens, Payload, Usage
from domain.permissions import NO_RULES, Permissions


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
    template_permissions: Permissions = NO_RULES  # the template's layer of rules
    permissions: Permissions = NO_RULES  # the agent's own layer


class AgentCommandedV1(Payload, frozen=True):
    """The first schema: the runtime ran every command at once, even during
    another one's turn (so commands in a row merged into one turn)."""

    command: str
    task: str
    source: str

    def upcast(self) -> AgentCommandedV2:
        return AgentCommandedV2(
            command=self.command, task=self.task, source=self.source, queued=False
        )


class AgentCommandedV2(AgentCommandedV1, frozen=True, tag=2):
    """``queued``: the command waits for the agent's earlier ones and then gets
    a turn of its own (False only for V1 commands, which started at once)."""

    queued: bool = True

    def upcast(self) -> AgentCommandedV3:
        return AgentCommandedV3(
            command=self.command, task=self.task, source=self.source, queued=self.queued
        )


class AgentCommandedV3(AgentCommandedV2, frozen=True, tag=3):
    """``request``: the Idempotency-Key of the HTTP request that gave the
    command, if any. The log itself then says whether that request's command
    was given, so a retry that takes over a claim cut short finds it here
    instead of giving it again (gateway/idempotency.py)."""

    request: str | None = None

    def upcast(self) -> NoReturn:
        raise NotImplementedError(f"{type(self).__name__} is the latest version")


class AgentStatusChangedV1(Payload, frozen=True):
    status: str
    reason: str
    task: str | None

    def upcast(self) -> AgentStatusChangedV2:
        return AgentStatusChangedV2(status=self.status, reason=self.reason, task=self.task)


class AgentStatusChangedV2(AgentStatusChangedV1, frozen=True, tag=2):
    """``started``: the change starts the turn of the first waiting command,
    ``task``. ``dropped``: waiting commands (their tasks) that will never run."""

    started: bool = False
    dropped: tuple[str, ...] = ()

    def upcast(self) -> NoReturn:
        raise NotImplementedError(f"{type(self).__name__} is the latest version")


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

    def upcast(self) -> FileChangedV2:
        return FileChangedV2(**msgspec.structs.asdict(self))


class FileChangedV2(FileChangedV1, frozen=True, tag=2):
    """One file a tool changed. ``change`` is a ``FileChange``; a renamed file's
    old path is ``previous_path``. ``diff`` is git's own where the agent works
    in a git work tree, difflib's elsewhere; past ``DIFF_CAP`` characters it is
    cut at a line end, and ``diff_cut_from`` says how long it was (None: whole).
    ``tool`` and ``tool_use_id`` name the tool call that made the change (None
    in events recorded before podium said)."""

    tool: str | None = None
    tool_use_id: str | None = None
    previous_path: str | None = None
    diff_cut_from: int | None = None

    def upcast(self) -> NoReturn:
        raise NotImplementedError(f"{type(self).__name__} is the latest version")


class AgentTurnCompletedV1(Payload, frozen=True):
    task: str | None
    model: str
    usage: Usage
    cost_usd: float
    duration_ms: int
    num_turns: int
    claude_session_id: str
    is_error: bool = False

    def upcast(self) -> AgentTurnCompletedV2:
        return AgentTurnCompletedV2(**msgspec.structs.asdict(self), priced_usd=None)


class AgentTurnCompletedV2(AgentTurnCompletedV1, frozen=True, tag=2):
    """``cost_usd`` stays the CLI's (budgets decide on it); ``priced_usd`` is
    what podium's price table says the same tokens cost (None: a model the
    table does not know, or a turn recorded before podium priced turns)."""

    priced_usd: float | None = None

    def upcast(self) -> NoReturn:
        raise NotImplementedError(f"{type(self).__name__} is the latest version")


class CostDiscrepancyV1(Payload, frozen=True):
    """The CLI's cost of one model's share of a turn and podium's price of the
    same tokens differ by more than domain.prices.TOLERANCE."""

    task: str | None
    model: str
    cli_cost_usd: float
    priced_usd: float
    tokens: ModelTokens  # the share priced (its cost_usd is the CLI's)


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
