"""The statuses of agents and sessions: one vocabulary for the log, the read
models, the API and the UI (which gets them from ``GET /api/meta``).

And the one transition table of an agent's status: what each step of its life
does to it. The Agent aggregate (domain/agent.py) and the agents read model
(projections/read_models/agents.py) both take their statuses from
``next_status``; neither writes a status rule of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum


class AgentStatus(StrEnum):
    IDLE = "idle"
    QUEUED = "queued"  # commands wait, none is running
    WORKING = "working"  # a turn is running (more may wait)
    AWAITING_APPROVAL = "awaiting approval"  # its turn waits for a person's decision
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    HIBERNATING = "hibernating"  # idle, and its Claude Code process is closed
    DELETED = "deleted"


# An agent with a turn running (maybe waiting for an approval) or commands waiting.
BUSY = frozenset({AgentStatus.WORKING, AgentStatus.AWAITING_APPROVAL, AgentStatus.QUEUED})
# An agent whose turn is in progress.
IN_TURN = frozenset({AgentStatus.WORKING, AgentStatus.AWAITING_APPROVAL})


class SessionStatus(StrEnum):
    ACTIVE = "active"
    INTERRUPTED = "interrupted"  # the orchestrator's answer was cut short
    ENDED = "ended"


class AgentStep(StrEnum):
    """What happens to an agent, as far as its status goes."""

    COMMANDED = "commanded"  # a command joins the agent's queue
    STARTED = "started"  # a turn starts (a command recorded before the queue: at once)
    TURN_ENDED = "turn ended"  # the turn's result came
    DROPPED = "dropped"  # the waiting commands are given up
    ASKED = "asked"  # the turn waits for a person to decide on a tool
    ANSWERED = "answered"  # the decision came (or the wait ended): the turn goes on
    HIBERNATED = "hibernated"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    DELETED = "deleted"


class TurnOutcome(StrEnum):
    """How an agent's turn ended, as its aggregate decides from what the turn reports."""

    COMPLETED = "completed"
    OVER_BUDGET = "over budget"  # the agent's budget is spent: it is interrupted
    FAILED = "failed"  # the turn ended in an error


def _to(status: AgentStatus) -> Transition:
    return lambda current, waiting: status


def _queued(current: AgentStatus, waiting: bool) -> AgentStatus:
    """A command waits: behind the turn in progress, or as the agent's next."""
    return current if current in IN_TURN else AgentStatus.QUEUED


def _turn_ended(current: AgentStatus, waiting: bool) -> AgentStatus:
    """A turn ends: the next command's turn is due, or none; a turn that was
    interrupted or failed already keeps saying so."""
    if current not in IN_TURN:
        return current
    return AgentStatus.QUEUED if waiting else AgentStatus.IDLE


def _dropped(current: AgentStatus, waiting: bool) -> AgentStatus:
    """Nothing waits any more: an agent that only waited is idle; a turn runs on."""
    return AgentStatus.IDLE if current is AgentStatus.QUEUED else current


def _answered(current: AgentStatus, waiting: bool) -> AgentStatus:
    """The wait for a decision is over: the turn works on, unless it was
    interrupted (or failed) meanwhile."""
    return AgentStatus.WORKING if current is AgentStatus.AWAITING_APPROVAL else current


# (the status now, whether commands still wait after the step) -> the status after it
Transition = Callable[[AgentStatus, bool], AgentStatus]

TRANSITIONS: Mapping[AgentStep, Transition] = {
    AgentStep.COMMANDED: _queued,
    AgentStep.STARTED: _to(AgentStatus.WORKING),
    AgentStep.TURN_ENDED: _turn_ended,
    AgentStep.DROPPED: _dropped,
    AgentStep.ASKED: _to(AgentStatus.AWAITING_APPROVAL),
    AgentStep.ANSWERED: _answered,
    AgentStep.HIBERNATED: _to(AgentStatus.HIBERNATING),
    AgentStep.INTERRUPTED: _to(AgentStatus.INTERRUPTED),
    AgentStep.FAILED: _to(AgentStatus.FAILED),
    AgentStep.DELETED: _to(AgentStatus.DELETED),
}


def next_status(current: str, step: AgentStep, waiting: bool) -> AgentStatus:
    """The agent's status after ``step``; ``waiting``: commands still wait after it."""
    return TRANSITIONS[step](AgentStatus(current), waiting)
