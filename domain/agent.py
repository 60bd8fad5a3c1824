"""The Agent aggregate: one worker agent and everything it does.

Every event of an agent's turn carries the ``task`` it belongs to (a short
slug of the command that started it, unique within the agent), so logs group
by task. An agent runs one turn at a time: its commands wait in order
(``waiting``) until the runtime starts each one's turn; a delete drops those
still waiting, and says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

# Events and their payloads are read together, so this module offers both.
from domain.agent_payloads import *  # noqa: F403
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
    AgentTurnCompletedV2,
    BudgetExceededV1,
    CostDiscrepancyV1,
    FileChangedV1,
    FileChangedV2,
    HookFiredV1,
    TextV1,
    ToolUseCompletedV1,
    ToolUseRequestedV1,
)
from domain.agent_rules import (
    DEFAULT_MODEL,
    WaitingCommand,
    check_agent,
    task_slug,
    unique_task,
)
from domain.agent_turns import AgentTurns
from domain.budget import Spend
from domain.errors import EmptyText
from domain.events import Payload, PodiumCreated, PodiumEvent
from domain.governance import BudgetSetV1, BudgetWarnedV1, PermissionRuleAddedV1
from domain.names import agent_stream_id
from domain.permissions import NO_RULES, Permissions
from domain.statuses import AgentStatus, AgentStep, next_status


class Agent(AgentTurns):
    """A worker agent of a session."""

    session_id: UUID
    name: str
    model: str
    incarnation: int
    status: AgentStatus
    task: str | None
    input_tokens: int
    output_tokens: int
    claude_session_id: str | None
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
        self.status = AgentStatus.IDLE
        self.task = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0
        self.claude_session_id = None
        self.budget_usd = payload.budget_usd
        self.budget_warned = 0
        self.template_permissions = payload.template_permissions
        self.permissions = payload.permissions
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
        template_permissions: Permissions = NO_RULES,
        permissions: Permissions = NO_RULES,
    ) -> Agent:
        """A new agent; ``AgentSetup.of`` gives the options a template makes."""
        check_agent(name, cwd, model, budget_usd)
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
            template_permissions=template_permissions,
            permissions=permissions,
        )
        stream_id = agent_stream_id(session_id, name, incarnation)
        return cls._create(AgentCreated, id=stream_id, payload=payload)

    def command(
        self,
        command: str,
        source: str = "orchestrator",
        request: str | None = None,
        session: Spend | None = None,
    ) -> str:
        """Give the agent a task; returns the task's slug. Refused once the
        agent's budget, or its ``session``'s, is spent. A ``request`` (an
        Idempotency-Key) that already gave this agent a command gets that
        command's task again, and nothing new happens."""
        if request is not None and request in self.requests:
            return self.requests[request]
        self._check_alive()
        if not command.strip():
            raise EmptyText("a command")
        if session is not None:
            session.check("this session")
        self.spend.check(self.name)
        task = unique_task(task_slug(command), self.tasks)
        payload = AgentCommandedV3(command=command, task=task, source=source, request=request)
        self.trigger_event(AgentCommanded, payload=payload)
        return task

    def delete(self, reason: str = "") -> None:
        self._check_alive()
        self.drop_waiting("the agent was deleted")
        self.trigger_event(AgentDeleted, payload=AgentDeletedV1(reason=reason))


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
        else:
            agent.waiting += (WaitingCommand(p.task, p.command),)
        _step(agent, self)


@dataclass(frozen=True)
class AgentStatusChanged(PodiumEvent):
    payload: AgentStatusChangedV2
    previous_payloads = (AgentStatusChangedV1,)

    def apply(self, agent: Agent) -> None:
        p = self.payload
        agent.status = AgentStatus(p.status)  # as the change decided it
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
    payload: FileChangedV2
    previous_payloads = (FileChangedV1,)


@dataclass(frozen=True)
class TurnCompleted(PodiumEvent):
    payload: AgentTurnCompletedV2
    previous_payloads = (AgentTurnCompletedV1,)

    def apply(self, agent: Agent) -> None:
        usage = self.payload.usage
        agent.input_tokens += usage.input_tokens
        agent.output_tokens += usage.output_tokens
        agent.cost_usd += self.payload.cost_usd
        agent.claude_session_id = self.payload.claude_session_id or agent.claude_session_id
        _step(agent, self)


@dataclass(frozen=True)
class AgentInterrupted(PodiumEvent):
    payload: AgentInterruptedV1

    def apply(self, agent: Agent) -> None:
        _step(agent, self)


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
class BudgetSet(PodiumEvent):
    payload: BudgetSetV1

    def apply(self, agent: Agent) -> None:
        agent.budget_usd = self.payload.budget_usd
        agent.budget_warned = 0  # warned anew under the new budget


@dataclass(frozen=True)
class BudgetWarned(PodiumEvent):
    payload: BudgetWarnedV1

    def apply(self, agent: Agent) -> None:
        agent.budget_warned = self.payload.percent


@dataclass(frozen=True)
class PermissionRuleAdded(PodiumEvent):
    payload: PermissionRuleAddedV1

    def apply(self, agent: Agent) -> None:
        agent.permissions = agent.permissions.with_rule(self.payload.outcome, self.payload.rule)


@dataclass(frozen=True)
class AgentFailed(PodiumEvent):
    payload: AgentFailedV1

    def apply(self, agent: Agent) -> None:
        _step(agent, self)


@dataclass(frozen=True)
class AgentDeleted(PodiumEvent):
    payload: AgentDeletedV1

    def apply(self, agent: Agent) -> None:
        _step(agent, self)


@dataclass(frozen=True)
class CostDiscrepancy(PodiumEvent):
    payload: CostDiscrepancyV1


# The step each event is in its agent's life (domain/statuses.py says what each
# step does to the status). AgentStatusChanged records the status it sets.
STEPS: dict[type[PodiumEvent], AgentStep] = {
    AgentCommanded: AgentStep.COMMANDED,
    TurnCompleted: AgentStep.TURN_ENDED,
    AgentInterrupted: AgentStep.INTERRUPTED,
    AgentFailed: AgentStep.FAILED,
    AgentDeleted: AgentStep.DELETED,
}


def status_step(event_class: type[PodiumEvent], payload: Payload) -> AgentStep | None:
    """The event's step for its agent's status (None: the status stays as it is)."""
    if isinstance(payload, AgentCommandedV2) and not payload.queued:
        return AgentStep.STARTED  # a V1 command: its turn began at once
    return STEPS.get(event_class)


def _step(agent: Agent, event: PodiumEvent) -> None:
    step = status_step(type(event), event.payload)
    assert step is not None
    agent.status = next_status(agent.status, step, bool(agent.waiting))
