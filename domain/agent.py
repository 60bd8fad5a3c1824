"""The Agent aggregate: one worker agent and everything it does.

Every event of an agent's turn carries the ``task`` it belongs to (a short
slug of the command that started it, unique within the agent), so logs group
by task. An agent runs one turn at a time: its commands wait in order
(``waiting``) until the runtime starts each one's turn; a delete drops those
still waiting, and says which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, NamedTuple
from uuid import UUID

from domain.agent_payloads import (
    AgentCommandedV1,
    AgentCommandedV2,
    AgentCommandedV3,
    AgentCreatedV1,
    AgentCreatedV2,
    AgentDeletedV1,
    AgentFailedV1,
    AgentInterruptedV1,
    AgentInterruptRequestedV1,
    AgentStatusChangedV1,
    AgentStatusChangedV2,
    AgentTurnCompletedV1,
    BudgetExceededV1,
    EventSummarizedV1,
    FileChangedV1,
    HookFiredV1,
    TextV1,
    ToolUseCompletedV1,
    ToolUseRequestedV1,
)
from domain.aggregate import PodiumAggregate
from domain.errors import (
    AgentIsDeleted,
    BudgetExhausted,
    DirectoryOutsideSession,
    EmptyText,
    InvalidModel,
)
from domain.events import PodiumCreated, PodiumEvent, Usage, check_cost
from domain.names import agent_stream_id, check_agent_name

# Events and their payloads are read together, so this module offers both.
__all__ = [
    "DEFAULT_MODEL",
    "MODEL_NAME",
    "STATUSES",
    "Agent",
    "AgentCommanded",
    "AgentCommandedV1",
    "AgentCommandedV2",
    "AgentCommandedV3",
    "AgentCreated",
    "AgentCreatedV1",
    "AgentCreatedV2",
    "AgentDeleted",
    "AgentDeletedV1",
    "AgentFailed",
    "AgentFailedV1",
    "AgentInterruptRequested",
    "AgentInterruptRequestedV1",
    "AgentInterrupted",
    "AgentInterruptedV1",
    "AgentStatusChanged",
    "AgentStatusChangedV1",
    "AgentStatusChangedV2",
    "AgentTextEmitted",
    "AgentThinkingEmitted",
    "AgentTurnCompletedV1",
    "BudgetExceeded",
    "BudgetExceededV1",
    "EventSummarized",
    "EventSummarizedV1",
    "FileChanged",
    "FileChangedV1",
    "HookFired",
    "HookFiredV1",
    "TextV1",
    "ToolUseCompleted",
    "ToolUseCompletedV1",
    "ToolUseRequested",
    "ToolUseRequestedV1",
    "TurnCompleted",
    "WaitingCommand",
    "check_agent_cwd",
    "check_model",
    "task_slug",
]

DEFAULT_MODEL = "claude-sonnet-4-5"
MODEL_NAME = re.compile(r"(claude-[a-z0-9][a-z0-9.-]{1,60}(\[1m\])?|sonnet|opus|haiku)")


def check_agent_cwd(cwd: str) -> str:
    """An agent works in its session's directory or below: a relative path, no '..'."""
    path = PurePosixPath(cwd)
    if path.is_absolute() or ".." in path.parts:
        raise DirectoryOutsideSession(cwd)
    return cwd


def check_model(model: str) -> str:
    if not MODEL_NAME.fullmatch(model):
        raise InvalidModel(model)
    return model


STATUSES = ("idle", "queued", "working", "interrupted", "failed", "hibernating", "deleted")


def task_slug(command: str, max_words: int = 5) -> str:
    """A short, readable slug of a command: 'Create a hello app' -> 'create-a-hello-app'."""
    words = re.findall(r"[a-z0-9]+", command.lower())[:max_words]
    return "-".join(words)[:48] or "task"


def unique_task(slug: str, taken: set[str]) -> str:
    """The slug, or the first of slug-2, slug-3, ... not taken yet."""
    task, n = slug, 1
    while task in taken:
        n += 1
        task = f"{slug}-{n}"
    return task


class WaitingCommand(NamedTuple):
    """A command the agent has not started yet."""

    task: str
    command: str


class Agent(PodiumAggregate):
    """A worker agent of a session."""

    session_id: UUID
    name: str
    model: str
    incarnation: int
    status: str
    task: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    claude_session_id: str | None
    budget_usd: float | None
    system_prompt: str
    template: str | None
    cwd: str
    allowed_tools: tuple[str, ...]
    permission_mode: str
    waiting: tuple[WaitingCommand, ...]  # in order; the first runs next
    tasks: set[str]  # every task the agent was given
    requests: dict[str, str]  # Idempotency-Key of a request that gave a command: its task

    def __init__(self, payload: AgentCreatedV2) -> None:
        self.session_id = payload.session_id
        self.name = payload.name
        self.model = payload.model
        self.incarnation = payload.incarnation
        self.system_prompt = payload.system_prompt
        self.template = payload.template
        self.cwd = payload.cwd
        self.allowed_tools = payload.allowed_tools
        self.permission_mode = payload.permission_mode
        self.status = "idle"
        self.task = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0
        self.claude_session_id = None
        self.budget_usd = payload.budget_usd
        self.waiting = ()
        self.tasks = set()
        self.requests = {}

    @classmethod
    def create(
        cls,
        session_id: UUID,
        name: str,
        *,
        incarnation: int = 0,
        model: str | None = None,
        system_prompt: str = "",
        template: str | None = None,
        cwd: str = ".",
        allowed_tools: tuple[str, ...] = (),
        permission_mode: str = "acceptEdits",
        budget_usd: float | None = None,
    ) -> Agent:
        check_agent_name(name)
        check_agent_cwd(cwd)
        if model is not None:
            check_model(model)
        if budget_usd is not None:
            check_cost(budget_usd)
        payload = AgentCreatedV2(
            session_id=session_id,
            name=name,
            incarnation=incarnation,
            model=model or DEFAULT_MODEL,
            system_prompt=system_prompt,
            template=template,
            cwd=cwd,
            allowed_tools=allowed_tools,
            permission_mode=permission_mode,
            budget_usd=budget_usd,
        )
        stream_id = agent_stream_id(session_id, name, incarnation)
        return cls._create(AgentCreated, id=stream_id, payload=payload)

    @property
    def budget_left(self) -> float | None:
        """USD the agent may still spend (None: no budget)."""
        return None if self.budget_usd is None else self.budget_usd - self.cost_usd

    @property
    def is_deleted(self) -> bool:
        return self.status == "deleted"

    def _check_alive(self) -> None:
        if self.is_deleted:
            raise AgentIsDeleted(self.name)

    def command(
        self, command: str, source: str = "orchestrator", request: str | None = None
    ) -> str:
        """Give the agent a task; returns the task's slug. A ``request`` (an
        Idempotency-Key) that already gave this agent a command gets that
        command's task again, and nothing new happens."""
        if request is not None and request in self.requests:
            return self.requests[request]
        self._check_alive()
        if not command.strip():
            raise EmptyText("a command")
        if self.budget_left is not None and self.budget_left <= 0:
            assert self.budget_usd is not None
            raise BudgetExhausted(self.name, self.budget_usd, self.cost_usd)
        task = unique_task(task_slug(command), self.tasks)
        payload = AgentCommandedV3(command=command, task=task, source=source, request=request)
        self.trigger_event(AgentCommanded, payload=payload)
        return task

    def change_status(self, status: str, reason: str = "") -> None:
        self._check_alive()
        if status not in STATUSES or status == "deleted":
            raise ValueError(f"unknown agent status {status!r}")
        payload = AgentStatusChangedV2(status=status, reason=reason, task=self.task)
        self.trigger_event(AgentStatusChanged, payload=payload)

    def start_turn(self) -> WaitingCommand:
        """Start the turn of the first waiting command; returns it."""
        self._check_alive()
        if not self.waiting:
            raise ValueError(f"{self.name} has no command waiting")
        first = self.waiting[0]
        payload = AgentStatusChangedV2(
            status="working", reason="started", task=first.task, started=True
        )
        self.trigger_event(AgentStatusChanged, payload=payload)
        return first

    def drop_waiting(self, reason: str) -> None:
        """Give up the commands still waiting (none runs), saying why and which."""
        if self.is_deleted or not self.waiting:
            return
        dropped = tuple(w.task for w in self.waiting)
        payload = AgentStatusChangedV2(
            status="idle" if self.status == "queued" else self.status,
            reason=f"{len(dropped)} waiting command(s) dropped: {reason}",
            task=self.task,
            dropped=dropped,
        )
        self.trigger_event(AgentStatusChanged, payload=payload)

    def emit_text(self, text: str) -> None:
        self.trigger_event(AgentTextEmitted, payload=TextV1(task=self.task, text=text))

    def emit_thinking(self, text: str) -> None:
        self.trigger_event(AgentThinkingEmitted, payload=TextV1(task=self.task, text=text))

    def request_tool_use(self, tool_use_id: str, tool: str, tool_input: dict[str, Any]) -> None:
        payload = ToolUseRequestedV1(
            task=self.task, tool_use_id=tool_use_id, tool=tool, input=tool_input
        )
        self.trigger_event(ToolUseRequested, payload=payload)

    def complete_tool_use(
        self, tool_use_id: str, tool: str, output: Any, is_error: bool = False
    ) -> None:
        payload = ToolUseCompletedV1(
            task=self.task, tool_use_id=tool_use_id, tool=tool, output=output, is_error=is_error
        )
        self.trigger_event(ToolUseCompleted, payload=payload)

    def record_file_change(self, path: str, change: str, diff: str) -> None:
        payload = FileChangedV1(task=self.task, path=path, change=change, diff=diff)
        self.trigger_event(FileChanged, payload=payload)

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
        usage.check()
        check_cost(cost_usd)
        payload = AgentTurnCompletedV1(
            task=self.task,
            model=self.model,
            usage=usage,
            cost_usd=cost_usd,
            duration_ms=duration_ms,
            num_turns=num_turns,
            claude_session_id=claude_session_id,
            is_error=is_error,
        )
        self.trigger_event(TurnCompleted, payload=payload)

    def interrupt(self, reason: str) -> None:
        self._check_alive()
        self.trigger_event(
            AgentInterrupted, payload=AgentInterruptedV1(task=self.task, reason=reason)
        )

    def request_interrupt(self, source: str) -> None:
        """Ask the runtime to stop the agent's turn; AgentInterrupted records that it did."""
        self._check_alive()
        payload = AgentInterruptRequestedV1(task=self.task, source=source)
        self.trigger_event(AgentInterruptRequested, payload=payload)

    def fire_hook(self, hook: str, tool: str | None, data: dict[str, Any]) -> None:
        """A Claude Code hook ran (Stop, Notification, SubagentStart, PreCompact, ...)."""
        payload = HookFiredV1(task=self.task, hook=hook, tool=tool, data=data)
        self.trigger_event(HookFired, payload=payload)

    def exceed_budget(self, scope: str, budget_usd: float, spent_usd: float) -> None:
        """The agent's (or its session's) spend reached its budget."""
        payload = BudgetExceededV1(
            task=self.task, scope=scope, budget_usd=budget_usd, spent_usd=spent_usd
        )
        self.trigger_event(BudgetExceeded, payload=payload)

    def fail(self, error: str) -> None:
        self._check_alive()
        self.trigger_event(AgentFailed, payload=AgentFailedV1(task=self.task, error=error))

    def delete(self, reason: str = "") -> None:
        self._check_alive()
        self.drop_waiting("the agent was deleted")
        self.trigger_event(AgentDeleted, payload=AgentDeletedV1(reason=reason))

    def summarize(self, notification_id: int, summary: str) -> None:
        payload = EventSummarizedV1(notification_id=notification_id, summary=summary)
        self.trigger_event(EventSummarized, payload=payload)


# --- events ---------------------------------------------------------------


@dataclass(frozen=True)
class AgentCreated(PodiumCreated):
    payload: AgentCreatedV2
    previous_payloads = (AgentCreatedV1,)


@dataclass(frozen=True)
class AgentCommanded(PodiumEvent):
    payload: AgentCommandedV3
    previous_payloads = (AgentCommandedV1, AgentCommandedV2)

    def apply(self, agent: Agent) -> None:
        p = self.payload
        agent.tasks.add(p.task)
        if p.request is not None:
            agent.requests[p.request] = p.task
        if not p.queued:  # a V1 command: its turn began at once
            agent.task = p.task
            agent.status = "working"
            return
        agent.waiting += (WaitingCommand(p.task, p.command),)
        if agent.status != "working":
            agent.status = "queued"


@dataclass(frozen=True)
class AgentStatusChanged(PodiumEvent):
    payload: AgentStatusChangedV2
    previous_payloads = (AgentStatusChangedV1,)

    def apply(self, agent: Agent) -> None:
        p = self.payload
        agent.status = p.status
        if p.started:
            agent.task = p.task
            agent.waiting = agent.waiting[1:]
        if p.dropped:
            agent.waiting = tuple(w for w in agent.waiting if w.task not in p.dropped)


@dataclass(frozen=True)
class AgentTextEmitted(PodiumEvent):
    payload: TextV1


@dataclass(frozen=True)
class AgentThinkingEmitted(PodiumEvent):
    payload: TextV1


@dataclass(frozen=True)
class ToolUseRequested(PodiumEvent):
    payload: ToolUseRequestedV1


@dataclass(frozen=True)
class ToolUseCompleted(PodiumEvent):
    payload: ToolUseCompletedV1


@dataclass(frozen=True)
class FileChanged(PodiumEvent):
    payload: FileChangedV1


@dataclass(frozen=True)
class TurnCompleted(PodiumEvent):
    payload: AgentTurnCompletedV1

    def apply(self, agent: Agent) -> None:
        usage = self.payload.usage
        agent.input_tokens += usage.input_tokens
        agent.output_tokens += usage.output_tokens
        agent.cost_usd += self.payload.cost_usd
        agent.claude_session_id = self.payload.claude_session_id or agent.claude_session_id
        if agent.status == "working":
            agent.status = "queued" if agent.waiting else "idle"


@dataclass(frozen=True)
class AgentInterrupted(PodiumEvent):
    payload: AgentInterruptedV1

    def apply(self, agent: Agent) -> None:
        agent.status = "interrupted"


@dataclass(frozen=True)
class AgentInterruptRequested(PodiumEvent):
    payload: AgentInterruptRequestedV1


@dataclass(frozen=True)
class HookFired(PodiumEvent):
    payload: HookFiredV1


@dataclass(frozen=True)
class BudgetExceeded(PodiumEvent):
    payload: BudgetExceededV1


@dataclass(frozen=True)
class AgentFailed(PodiumEvent):
    payload: AgentFailedV1

    def apply(self, agent: Agent) -> None:
        agent.status = "failed"


@dataclass(frozen=True)
class AgentDeleted(PodiumEvent):
    payload: AgentDeletedV1

    def apply(self, agent: Agent) -> None:
        agent.status = "deleted"


@dataclass(frozen=True)
class EventSummarized(PodiumEvent):
    payload: EventSummarizedV1
