"""What a person governs of an agent: its budget, and its layers of permission
rules (the template's, recorded when it was made, and its own, which
"always for this agent" grows).

The budget rule is domain/budget.py's, for agents and sessions alike; here
the agent records what it decides: a warning at 50, 75 and 90% of its
budget, and BudgetExceeded once it is spent. A raised budget lets the agent
take commands again.

The events are domain.agent's (their topics name that module; see
domain/agent_activity.py for why this module imports domain.agent last).
"""

from __future__ import annotations

from domain.agent_activity import AgentActivity
from domain.budget import Spend
from domain.events import check_cost
from domain.governance import BudgetSetV1, BudgetWarnedV1, PermissionRuleAddedV1
from domain.permissions import Outcome, Permissions, Rule


class AgentGovernance(AgentActivity):
    """The governed half of the Agent aggregate: budget and permission rules."""

    name: str
    budget_usd: float | None
    budget_warned: int  # the last warning percent given under the budget (0: none)
    cost_usd: float
    template_permissions: Permissions  # the template's layer, as it was at creation
    permissions: Permissions  # the agent's own layer

    @property
    def spend(self) -> Spend:
        """The agent's own budget and spend: once spent, no more commands or turns."""
        return Spend(self.budget_usd, self.cost_usd)

    @property
    def permission_layers(self) -> tuple[Permissions, Permissions]:
        """The agent's layers of rules, least specific first (the template's, its own)."""
        return self.template_permissions, self.permissions

    def set_budget(self, budget_usd: float | None, by: str) -> None:
        """Set, raise, lower or (None) remove the agent's budget."""
        if budget_usd is not None:
            check_cost(budget_usd)
        self.trigger_event(events.BudgetSet, payload=BudgetSetV1(budget_usd=budget_usd, by=by))

    def settle_spend(self) -> bool:
        """After a turn: warn of a budget running out, or record that it is spent.
        True when it is (no more commands or turns until it is raised)."""
        spend = self.spend
        if spend.exhausted:
            self.exceed_budget("agent", spend.budget_usd or 0.0, spend.spent_usd)
            return True
        percent = spend.warning_due(self.budget_warned)
        if percent is not None and spend.budget_usd is not None:
            payload = BudgetWarnedV1(
                task=self.task,
                scope="agent",
                percent=percent,
                budget_usd=spend.budget_usd,
                spent_usd=spend.spent_usd,
            )
            self.trigger_event(events.BudgetWarned, payload=payload)
        return False

    def add_permission_rule(self, outcome: Outcome, rule: str, by: str = "") -> None:
        """One rule more in the agent's own layer (what "always for this agent"
        approves); the same rule under another outcome moves."""
        payload = PermissionRuleAddedV1(outcome=outcome, rule=Rule.parse(rule).text, by=by)
        self.trigger_event(events.PermissionRuleAdded, payload=payload)


# Last: see the module's docstring.
from domain import agent as events  # noqa: E402
