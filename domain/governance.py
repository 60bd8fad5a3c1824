"""What a person governs of sessions and agents alike, as payloads both
streams record: budgets (set, raised or removed at any time; warned about on
the way to being spent) and layers of permission rules.

The events are each stream's own (``domain.session``, ``domain.agent``); the
payloads are one shape for both.
"""

from __future__ import annotations

from domain.events import Payload
from domain.permissions import Outcome, Permissions


class BudgetSetV1(Payload, frozen=True):
    budget_usd: float | None  # None: no budget any more
    by: str  # who set it ("ui", "orchestrator", "cli")


class BudgetWarnedV1(Payload, frozen=True):
    task: str | None
    scope: str  # "agent" | "session"
    percent: int  # one of domain.budget.WARNING_PERCENTS
    budget_usd: float
    spent_usd: float


class PermissionRulesSetV1(Payload, frozen=True):
    rules: Permissions


class PermissionRuleAddedV1(Payload, frozen=True):
    outcome: Outcome
    rule: str
    by: str = ""  # who added it (an approval granted "always": its id)
