"""The budget rule, for agents and sessions alike: once what was spent reaches
the budget, no more commands, and the work in progress stops.

An agent's spend is its aggregate's (domain/agent.py folds its turns). A
session's is its orchestrator's turns and every agent it ever had, deleted
ones included, each folded from the log by its own aggregate: never a read
model, which may trail the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from domain.errors import BudgetExhausted

# How far into a budget its spend is worth a warning (each once per budget).
WARNING_PERCENTS = (50, 75, 90)

if TYPE_CHECKING:  # the aggregates use Spend themselves
    from domain.agent import Agent
    from domain.session import Session


class Spend(NamedTuple):
    """What may be spent (None: no budget) and what has been, in USD."""

    budget_usd: float | None
    spent_usd: float

    @property
    def left(self) -> float | None:
        """What may still be spent (None: no budget)."""
        return None if self.budget_usd is None else self.budget_usd - self.spent_usd

    @property
    def exhausted(self) -> bool:
        return self.budget_usd is not None and self.spent_usd >= self.budget_usd

    def check(self, who: str) -> None:
        """Refuse a command once the budget is spent."""
        if self.exhausted:
            raise BudgetExhausted(who, self.budget_usd or 0.0, self.spent_usd)

    def warning_due(self, warned: int) -> int | None:
        """The highest warning percent the spend has reached, when it is above
        ``warned`` (the last one given under this budget) and the budget is
        not spent yet (being spent is a BudgetExceeded of its own)."""
        if self.budget_usd is None or self.exhausted or self.budget_usd <= 0:
            return None
        reached = [p for p in WARNING_PERCENTS if self.spent_usd >= self.budget_usd * p / 100]
        return reached[-1] if reached and reached[-1] > warned else None

    def reason(self, whose: str) -> str:
        return f"{whose} ${self.budget_usd or 0:.2f} budget is spent"


def session_spend(session: Session, agents: Iterable[Agent]) -> Spend:
    """The session's budget, and what its orchestrator and its agents spent."""
    spent = session.cost_usd + sum(agent.cost_usd for agent in agents)
    return Spend(session.budget_usd, spent)
