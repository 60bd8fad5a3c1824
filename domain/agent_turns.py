"""An agent's turns, one at a time: started from its first waiting command,
ended by its result (whose outcome the agent decides), interrupted, failed,
or given up while they wait; and the agent's status on the way, by the one
transition table (domain/statuses.py).

The events are domain.agent's (their topics name that module; see
domain/agent_activity.py for why this module imports domain.agent last).
"""

from __future__ import annotations

from domain.agent_governance import AgentGovernance
from domain.agent_payloads import (
    AgentFailedV1,
    AgentInterruptedV1,
    AgentInterruptRequestedV1,
    AgentStatusChangedV2,
)
from domain.agent_rules import TurnReport, WaitingCommand
from domain.budget import Spend
from domain.errors import AgentIsDeleted
from domain.statuses import BUSY, AgentStatus, AgentStep, TurnOutcome, next_status


class AgentTurns(AgentGovernance):
    """The turn-taking half of the Agent aggregate."""

    status: AgentStatus
    waiting: tuple[WaitingCommand, ...]  # in order; the first runs next

    @property
    def is_deleted(self) -> bool:
        return self.status is AgentStatus.DELETED

    def _check_alive(self) -> None:
        if self.is_deleted:
            raise AgentIsDeleted(self.name)

    def change_status(self, status: str, reason: str = "") -> None:
        self._check_alive()
        if AgentStatus(status) is AgentStatus.DELETED:  # an unknown one: ValueError
            raise ValueError("an agent is deleted by delete(), not by a status change")
        payload = AgentStatusChangedV2(status=status, reason=reason, task=self.task)
        self.trigger_event(events.AgentStatusChanged, payload=payload)

    def hibernate(self, reason: str) -> None:
        """Its Claude Code process was closed while it was idle."""
        self.change_status(next_status(self.status, AgentStep.HIBERNATED, False), reason)

    def start_turn(self) -> WaitingCommand | None:
        """Start the turn of the first waiting command; returns it. None when the
        agent's budget is spent: the waiting commands are dropped instead."""
        self._check_alive()
        if not self.waiting:
            raise ValueError(f"{self.name} has no command waiting")
        if self.spend.exhausted:
            self.drop_waiting(self.spend.reason("its"))
            return None
        first = self.waiting[0]
        status = next_status(self.status, AgentStep.STARTED, len(self.waiting) > 1)
        payload = AgentStatusChangedV2(
            status=status, reason="started", task=first.task, started=True
        )
        self.trigger_event(events.AgentStatusChanged, payload=payload)
        return first

    def drop_waiting(self, reason: str) -> None:
        """Give up the commands still waiting (none runs), saying why and which."""
        if self.is_deleted or not self.waiting:
            return
        dropped = tuple(w.task for w in self.waiting)
        payload = AgentStatusChangedV2(
            status=next_status(self.status, AgentStep.DROPPED, False),
            reason=f"{len(dropped)} waiting command(s) dropped: {reason}",
            task=self.task,
            dropped=dropped,
        )
        self.trigger_event(events.AgentStatusChanged, payload=payload)

    def finish_turn(self, report: TurnReport) -> TurnOutcome:
        """Record the turn's end and decide its outcome: an agent whose budget the
        turn spent is stopped; a turn that ended in an error fails the agent
        (not when the error is the agent's own interruption)."""
        was_working = self.status is AgentStatus.WORKING
        self.complete_turn(
            report.usage,
            cost_usd=report.cost_usd,
            duration_ms=report.duration_ms,
            num_turns=report.num_turns,
            claude_session_id=report.claude_session_id,
            is_error=report.is_error,
        )
        if self.settle_spend():
            if self.status in (AgentStatus.WORKING, AgentStatus.IDLE):
                self.interrupt(self.spend.reason("its"))
            return TurnOutcome.OVER_BUDGET
        if report.is_error and was_working:
            self.fail(f"the turn ended in an error: {report.error}")
            return TurnOutcome.FAILED
        return TurnOutcome.COMPLETED

    def stop_for_session(self, session: Spend) -> bool:
        """Its session's budget is spent: a busy agent records it and drops what
        waits. True when it did (the runtime then interrupts its turn)."""
        if not session.exhausted or self.status not in BUSY:
            return False
        self.exceed_budget("session", session.budget_usd or 0.0, session.spent_usd)
        self.drop_waiting(session.reason("the session's"))
        return True

    def interrupt(self, reason: str) -> None:
        self._check_alive()
        self.trigger_event(
            events.AgentInterrupted, payload=AgentInterruptedV1(task=self.task, reason=reason)
        )

    def request_interrupt(self, source: str) -> None:
        """Ask the runtime to stop the agent's turn; AgentInterrupted records that it
        did. An agent with no turn running or waiting has nothing to stop."""
        self._check_alive()
        if self.status not in BUSY:
            return
        payload = AgentInterruptRequestedV1(task=self.task, source=source)
        self.trigger_event(events.AgentInterruptRequested, payload=payload)

    def fail(self, error: str) -> None:
        self._check_alive()
        self.trigger_event(events.AgentFailed, payload=AgentFailedV1(task=self.task, error=error))


# Last: see the module's docstring.
from domain import agent as events  # noqa: E402
