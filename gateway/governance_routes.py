"""What a person governs over the API: budgets and the session's permission rules.

Each is a command of the application service (domain.application.Podium),
decided by the aggregates from the log, never from a read model: so a budget
raised here lets an agent its budget stopped take commands again at once,
and a malformed rule is refused (422) naming the rule and why.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from domain.application import Podium
from domain.permissions import Permissions
from gateway.bodies import NewBudget, RuleLayer, read_body
from gateway.reads import session_id_of
from gateway.routes import SOURCE, json


class GovernanceRoutes:
    """Budgets and permission rules, set through the API."""

    def __init__(self, app: Podium) -> None:
        self.app = app

    async def set_session_budget(self, request: Request) -> Response:
        """Set, raise, lower or (null) remove the session's budget."""
        session_id = session_id_of(request)
        body = await read_body(request, NewBudget)
        spend = await asyncio.to_thread(
            self.app.set_session_budget, session_id, body.budget_usd, SOURCE
        )
        return json(
            {"session_id": session_id, "budget_usd": spend.budget_usd, "spent_usd": spend.spent_usd}
        )

    async def set_agent_budget(self, request: Request) -> Response:
        """Set, raise, lower or (null) remove an agent's own budget."""
        session_id, name = session_id_of(request), request.path_params["name"]
        body = await read_body(request, NewBudget)
        agent = await asyncio.to_thread(
            self.app.set_agent_budget, session_id, name, body.budget_usd, SOURCE
        )
        return json(
            {
                "session_id": session_id,
                "agent": agent.name,
                "budget_usd": agent.budget_usd,
                "spent_usd": agent.cost_usd,
            }
        )

    async def session_permissions(self, request: Request) -> Response:
        """The session's own layer of rules (podium's defaults and the agents' are apart)."""
        session = await asyncio.to_thread(self.app.get_session, session_id_of(request))
        return json(session.permissions)

    async def set_session_permissions(self, request: Request) -> Response:
        """The session's whole layer of rules, in place of what it had; as recorded."""
        session_id = session_id_of(request)
        body = await read_body(request, RuleLayer)

        def set_them() -> Permissions:
            self.app.set_session_rules(session_id, body.rules())
            return self.app.get_session(session_id).permissions

        return json(await asyncio.to_thread(set_them))
