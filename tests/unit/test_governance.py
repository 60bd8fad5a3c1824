"""What a person governs, as domain rules: budgets set, raised and removed at
any time and warned about at 50, 75 and 90%; a grant beyond one use adds the
rule it approves to the agent's or the session's layer. In-memory store."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from domain.agent import Agent
from domain.application import Podium
from domain.approval import Approval
from domain.budget import WARNING_PERCENTS, Spend
from domain.errors import AgentNotFound, BudgetExhausted
from domain.permissions import Outcome, Permissions, Place, matching_rule, rule_for
from domain.statuses import AgentStatus, TurnOutcome
from tests.unit.test_budget import report


def run_turn(agent: Agent, cost_usd: float) -> TurnOutcome:
    agent.command("work")
    agent.start_turn()
    return agent.finish_turn(report(cost_usd))


def kinds(agent: Agent | Any) -> list[str]:
    return [type(e).__name__ for e in agent.collect_events()]


def test_a_warning_is_due_once_per_threshold_and_never_once_spent() -> None:
    assert WARNING_PERCENTS == (50, 75, 90)
    assert Spend(1.0, 0.49).warning_due(0) is None
    assert Spend(1.0, 0.5).warning_due(0) == 50
    assert Spend(1.0, 0.8).warning_due(0) == 75  # a jump past two: the highest
    assert Spend(1.0, 0.8).warning_due(75) is None
    assert Spend(1.0, 0.95).warning_due(75) == 90
    assert Spend(1.0, 1.0).warning_due(0) is None  # spent: BudgetExceeded says so
    assert Spend(None, 5.0).warning_due(0) is None


def test_an_agent_warns_on_its_way_to_its_budget_then_stops() -> None:
    agent = Agent.create(UUID(int=1), "ann", budget_usd=1.0)
    assert run_turn(agent, 0.6) is TurnOutcome.COMPLETED
    events = agent.collect_events()
    warned = [e for e in events if type(e).__name__ == "BudgetWarned"]
    assert [(w.payload.percent, w.payload.scope) for w in warned] == [(50, "agent")]
    assert run_turn(agent, 0.1) is TurnOutcome.COMPLETED
    assert "BudgetWarned" not in kinds(agent)  # 70%: nothing new
    assert run_turn(agent, 0.5) is TurnOutcome.OVER_BUDGET
    assert "BudgetExceeded" in kinds(agent) and agent.status is AgentStatus.INTERRUPTED


def test_a_raised_budget_takes_commands_again_and_warns_anew() -> None:
    agent = Agent.create(UUID(int=1), "ann", budget_usd=0.5)
    run_turn(agent, 0.6)
    with pytest.raises(BudgetExhausted):
        agent.command("more")
    agent.set_budget(2.0, "user")
    assert agent.budget_warned == 0 and agent.spend == Spend(2.0, 0.6)
    assert agent.command("more") == "more"
    agent.set_budget(None, "user")  # removed: no limit
    assert not agent.spend.exhausted and agent.spend.left is None


def test_budgets_are_set_through_the_service_for_sessions_and_agents() -> None:
    app = Podium()
    session = app.start_session("s", "/w", budget_usd=1.0)
    app.create_agent(session.id, "ann")
    assert app.set_session_budget(session.id, 3.0, "user") == Spend(3.0, 0.0)
    assert app.set_agent_budget(session.id, "ann", 0.25, "user").spend == Spend(0.25, 0.0)
    app.delete_agent(session.id, "ann")
    with pytest.raises(AgentNotFound):
        app.set_agent_budget(session.id, "ann", 1.0, "user")


def test_a_session_warns_once_its_spend_reaches_the_next_threshold() -> None:
    app = Podium()
    session = app.start_session("s", "/w", budget_usd=1.0)
    app.create_agent(session.id, "ann")
    agent = app.find_agent(session.id, "ann")
    run_turn(agent, 0.8)
    app.save(agent)
    assert app.warn_session_budget(session.id) == Spend(1.0, 0.8)
    assert app.get_session(session.id).budget_warned == 75
    app.warn_session_budget(session.id)  # nothing new to say
    assert app.get_session(session.id).version == session.version + 1


@pytest.mark.parametrize(
    ("tool", "tool_input", "rule"),
    [
        ("Bash", {"command": "npm test"}, "Bash(npm test)"),
        ("WebFetch", {"url": "https://docs.python.org/3/x"}, "WebFetch(domain:docs.python.org)"),
        ("Edit", {"file_path": "/w/src/a.py"}, "Edit(//w/src/a.py)"),
        ("Write", {"file_path": "notes.md"}, "Edit(notes.md)"),
        ("Read", {"file_path": "/etc/hosts"}, "Read(//etc/hosts)"),
        ("mcp__docs__search", {"q": "x"}, "mcp__docs__search"),
        ("Bash", {}, "Bash"),
    ],
)
def test_the_rule_a_grant_adds_is_the_narrowest_that_approves_the_call(
    tool: str, tool_input: dict[str, Any], rule: str
) -> None:
    assert rule_for(tool, tool_input) == rule
    found = matching_rule(
        Permissions.of({Outcome.ALLOW: [rule]}), tool, tool_input, Place(cwd="/w", home="/h")
    )
    assert found is not None and found.outcome is Outcome.ALLOW


def _asked(app: Podium, agent: Agent, tool_use_id: str = "toolu_1") -> Approval:
    return app.request_approval(
        Approval.request(
            agent_id=agent.id,
            session_id=agent.session_id,
            agent=agent.name,
            task=None,
            tool="Bash",
            tool_use_id=tool_use_id,
            tool_input={"command": "ls -la"},
        )
    )


def test_always_for_the_agent_or_the_session_adds_the_rule_in_the_log() -> None:
    app = Podium()
    session = app.start_session("s", "/w")
    agent = app.create_agent(session.id, "ann")
    app.decide_approval(_asked(app, agent).id, True, "agent", "", "user")
    assert app.get_agent(agent.id).permissions.allow == ("Bash(ls -la)",)
    assert app.get_session(session.id).permissions == Permissions()
    app.decide_approval(_asked(app, agent, "toolu_2").id, True, "session", "", "user")
    assert app.get_session(session.id).permissions.allow == ("Bash(ls -la)",)
    app.decide_approval(_asked(app, agent, "toolu_3").id, True, "once", "", "user")
    app.decide_approval(_asked(app, agent, "toolu_4").id, False, "once", "no", "user")
    assert app.get_agent(agent.id).permissions.allow == ("Bash(ls -la)",)  # unchanged
