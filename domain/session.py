"""The Session aggregate: one conversation between a person and the orchestrator.

It folds what its orchestrator spends; what its agents spend their own
aggregates fold, and domain/budget.py adds the two up. It also holds the
session's layer of permission rules (domain/permissions.py), which its
agents' CLIs are handed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn
from uuid import uuid4

import msgspec

from domain.agent_payloads import CostDiscrepancyV1
from domain.aggregate import PodiumAggregate
from domain.budget import Spend
from domain.errors import EmptyText, SessionIsEnded
from domain.events import Payload, PodiumCreated, PodiumEvent, Usage, check_cost
from domain.governance import (
    BudgetSetV1,
    BudgetWarnedV1,
    PermissionRuleAddedV1,
    PermissionRulesSetV1,
)
from domain.permissions import Outcome, Permissions, Rule
from domain.prices import PRICES, discrepancies
from domain.statuses import SessionStatus


class Session(PodiumAggregate):
    """A conversation with the orchestrator and the agents it manages."""

    title: str
    cwd: str
    budget_usd: float | None
    status: SessionStatus
    claude_session_id: str | None
    cost_usd: float  # the orchestrator's turns
    permissions: Permissions  # the session's layer of rules
    budget_warned: int  # the last warning percent given under the budget (0: none)

    def __init__(self, payload: SessionStartedV1) -> None:
        self.title = payload.title
        self.cwd = payload.cwd
        self.budget_usd = payload.budget_usd
        self.status = SessionStatus.ACTIVE
        self.claude_session_id = None
        self.cost_usd = 0.0
        self.permissions = Permissions()
        self.budget_warned = 0

    @classmethod
    def start(cls, title: str, cwd: str, budget_usd: float | None = None) -> Session:
        if budget_usd is not None:
            check_cost(budget_usd)
        payload = SessionStartedV1(title=title, cwd=cwd, budget_usd=budget_usd)
        return cls._create(SessionStarted, id=uuid4(), payload=payload)

    def check_open(self) -> None:
        if self.status is SessionStatus.ENDED:
            raise SessionIsEnded(self.id)

    def send_user_message(self, text: str) -> None:
        """A message for the orchestrator; one to an interrupted session resumes it."""
        self.check_open()
        if not text.strip():
            raise EmptyText("a message")
        if self.status is SessionStatus.INTERRUPTED:
            self.trigger_event(SessionResumed, payload=ReasonV1(reason="a new message"))
        self.trigger_event(UserMessageSent, payload=UserMessageSentV1(text=text))

    def record_reply(self, text: str) -> None:
        self.trigger_event(OrchestratorReplied, payload=OrchestratorRepliedV1(text=text))

    def record_tool_use(self, tool_use_id: str, tool: str, tool_input: dict[str, Any]) -> None:
        payload = OrchestratorToolUsedV1(tool_use_id=tool_use_id, tool=tool, input=tool_input)
        self.trigger_event(OrchestratorToolUsed, payload=payload)

    def complete_turn(
        self,
        usage: Usage,
        *,
        cost_usd: float,
        duration_ms: int,
        num_turns: int,
        claude_session_id: str,
        model: str,
        is_error: bool = False,
    ) -> None:
        """The orchestrator's turn: its tokens and the CLI's cost, priced by
        podium's table beside it, as an agent's turn is."""
        usage.check()
        check_cost(cost_usd)
        usage, priced = PRICES.priced(model, usage)
        payload = SessionTurnCompletedV2(
            usage=usage,
            cost_usd=cost_usd,
            duration_ms=duration_ms,
            num_turns=num_turns,
            claude_session_id=claude_session_id,
            model=model,
            is_error=is_error,
            priced_usd=priced,
        )
        self.trigger_event(TurnCompleted, payload=payload)
        for discrepancy in discrepancies(usage, task=None):
            self.trigger_event(CostDiscrepancy, payload=discrepancy)

    def set_permission_rules(self, rules: Mapping[Outcome, Iterable[str]]) -> None:
        """The session's whole layer of rules, in place of what it had (each
        rule checked: a malformed one raises ``MalformedRule``)."""
        self.check_open()
        payload = PermissionRulesSetV1(rules=Permissions.of(rules))
        self.trigger_event(PermissionRulesSet, payload=payload)

    def add_permission_rule(self, outcome: Outcome, rule: str, by: str = "") -> None:
        """One rule more (what "always for this session" approves, say); the
        same rule under another outcome moves."""
        self.check_open()
        payload = PermissionRuleAddedV1(outcome=outcome, rule=Rule.parse(rule).text, by=by)
        self.trigger_event(PermissionRuleAdded, payload=payload)

    def set_budget(self, budget_usd: float | None, by: str) -> None:
        """Set, raise, lower or (None) remove the session's budget: a raised one
        lets its agents take commands again."""
        self.check_open()
        if budget_usd is not None:
            check_cost(budget_usd)
        self.trigger_event(BudgetSet, payload=BudgetSetV1(budget_usd=budget_usd, by=by))

    def warn_budget(self, spend: Spend) -> None:
        """Record a warning when the session's spend (its orchestrator's and its
        agents') has reached the next of 50, 75 and 90% of its budget."""
        percent = spend.warning_due(self.budget_warned)
        if percent is None or spend.budget_usd is None:
            return
        payload = BudgetWarnedV1(
            task=None,
            scope="session",
            percent=percent,
            budget_usd=spend.budget_usd,
            spent_usd=spend.spent_usd,
        )
        self.trigger_event(BudgetWarned, payload=payload)

    def interrupt(self, reason: str) -> None:
        """The orchestrator's turn was cut short (a shutdown, a crash): say why."""
        self.check_open()
        self.trigger_event(SessionInterrupted, payload=ReasonV1(reason=reason))

    def cut_short(self, reason: str) -> None:
        """The orchestrator's answer in progress was cut short: recorded on an
        active session (one interrupted already says so)."""
        if self.status is SessionStatus.ACTIVE:
            self.interrupt(reason)

    def resume(self, reason: str) -> None:
        self.check_open()
        self.trigger_event(SessionResumed, payload=ReasonV1(reason=reason))

    def end(self, reason: str) -> None:
        self.check_open()
        self.trigger_event(SessionEnded, payload=ReasonV1(reason=reason))


class SessionStartedV1(Payload, frozen=True):
    title: str
    cwd: str
    budget_usd: float | None = None


class UserMessageSentV1(Payload, frozen=True):
    text: str


class OrchestratorRepliedV1(Payload, frozen=True):
    text: str


class OrchestratorToolUsedV1(Payload, frozen=True):
    tool_use_id: str
    tool: str
    input: dict[str, Any]


class SessionTurnCompletedV1(Payload, frozen=True):
    usage: Usage
    cost_usd: float
    duration_ms: int
    num_turns: int
    claude_session_id: str
    model: str
    is_error: bool = False

    def upcast(self) -> SessionTurnCompletedV2:
        return SessionTurnCompletedV2(**msgspec.structs.asdict(self), priced_usd=None)


class SessionTurnCompletedV2(SessionTurnCompletedV1, frozen=True, tag=2):
    """``priced_usd``: podium's price of the turn's tokens (None: a model the
    table does not know, or a turn recorded before podium priced the
    orchestrator's); ``cost_usd`` stays the CLI's."""

    priced_usd: float | None = None

    def upcast(self) -> NoReturn:
        raise NotImplementedError(f"{type(self).__name__} is the latest version")


class ReasonV1(Payload, frozen=True):
    reason: str


@dataclass(frozen=True)
class SessionStarted(PodiumCreated):
    payload: SessionStartedV1


@dataclass(frozen=True)
class UserMessageSent(PodiumEvent):
    payload: UserMessageSentV1


@dataclass(frozen=True)
class OrchestratorReplied(PodiumEvent):
    payload: OrchestratorRepliedV1


@dataclass(frozen=True)
class OrchestratorToolUsed(PodiumEvent):
    payload: OrchestratorToolUsedV1


@dataclass(frozen=True)
class TurnCompleted(PodiumEvent):
    payload: SessionTurnCompletedV2
    previous_payloads = (SessionTurnCompletedV1,)

    def apply(self, session: Session) -> None:
        session.claude_session_id = self.payload.claude_session_id or session.claude_session_id
        session.cost_usd += self.payload.cost_usd


@dataclass(frozen=True)
class CostDiscrepancy(PodiumEvent):
    payload: CostDiscrepancyV1


@dataclass(frozen=True)
class PermissionRulesSet(PodiumEvent):
    payload: PermissionRulesSetV1

    def apply(self, session: Session) -> None:
        session.permissions = self.payload.rules


@dataclass(frozen=True)
class PermissionRuleAdded(PodiumEvent):
    payload: PermissionRuleAddedV1

    def apply(self, session: Session) -> None:
        session.permissions = session.permissions.with_rule(self.payload.outcome, self.payload.rule)


@dataclass(frozen=True)
class BudgetSet(PodiumEvent):
    payload: BudgetSetV1

    def apply(self, session: Session) -> None:
        session.budget_usd = self.payload.budget_usd
        session.budget_warned = 0  # warned anew under the new budget


@dataclass(frozen=True)
class BudgetWarned(PodiumEvent):
    payload: BudgetWarnedV1

    def apply(self, session: Session) -> None:
        session.budget_warned = self.payload.percent


@dataclass(frozen=True)
class SessionInterrupted(PodiumEvent):
    payload: ReasonV1

    def apply(self, session: Session) -> None:
        session.status = SessionStatus.INTERRUPTED


@dataclass(frozen=True)
class SessionResumed(PodiumEvent):
    payload: ReasonV1

    def apply(self, session: Session) -> None:
        session.status = SessionStatus.ACTIVE


@dataclass(frozen=True)
class SessionEnded(PodiumEvent):
    payload: ReasonV1

    def apply(self, session: Session) -> None:
        session.status = SessionStatus.ENDED
