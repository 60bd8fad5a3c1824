"""Budgets: one rule (domain/budget.py) for agents and sessions; a turn's
outcome decided by the agent from what the turn reports; a session's spend
folded from the log, its agents' included. In-memory store: no PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from domain import agent as a
from domain.agent import Agent
from domain.agent_rules import TurnReport
from domain.application import Podium
from domain.budget import Spend
from domain.errors import BudgetExhausted
from domain.events import Usage
from domain.statuses import AgentStatus, TurnOutcome


def report(cost_usd: float, is_error: bool = False, error: str = "") -> TurnReport:
    return TurnReport(
        usage=Usage(input_tokens=10),
        cost_usd=cost_usd,
        duration_ms=5,
        num_turns=1,
        claude_session_id="c",
        is_error=is_error,
        error=error,
    )


def working(budget_usd: float | None = None, commands: int = 1) -> Agent:
    agent = Agent.create(uuid.uuid4(), "alice", budget_usd=budget_usd)
    for n in range(commands):
        agent.command(f"task {n}")
    agent.start_turn()
    return agent


def kinds(agent: Agent) -> list[str]:
    return [type(e).__name__ for e in agent.collect_events()]


def test_spend_is_exhausted_at_the_budget_and_never_without_one() -> None:
    assert not Spend(None, 1e9).exhausted
    assert not Spend(1.0, 0.99).exhausted
    assert Spend(1.0, 1.0).exhausted
    assert Spend(1.0, 0.25).left == 0.75
    with pytest.raises(BudgetExhausted, match=r"bob has spent \$1\.5000 of its \$1\.00"):
        Spend(1.0, 1.5).check("bob")


def test_a_turn_within_budget_completes() -> None:
    agent = working(budget_usd=1.0)
    assert agent.finish_turn(report(0.3)) is TurnOutcome.COMPLETED
    assert agent.status is AgentStatus.IDLE
    assert kinds(agent)[-1] == "TurnCompleted"


def test_a_turn_that_spends_the_budget_stops_the_agent() -> None:
    agent = working(budget_usd=0.05)
    assert agent.finish_turn(report(0.05)) is TurnOutcome.OVER_BUDGET
    assert kinds(agent)[-3:] == ["TurnCompleted", "BudgetExceeded", "AgentInterrupted"]
    assert agent.status is AgentStatus.INTERRUPTED
    with pytest.raises(BudgetExhausted, match="alice"):
        agent.command("more")


def test_a_spent_budget_drops_what_waits_instead_of_starting_it() -> None:
    agent = working(budget_usd=0.01, commands=3)
    agent.finish_turn(report(0.02))
    assert agent.status is AgentStatus.QUEUED  # two commands wait
    assert agent.start_turn() is None
    assert agent.waiting == () and agent.status is AgentStatus.IDLE
    dropped = agent.pending_events[-1]
    assert isinstance(dropped, a.AgentStatusChanged)
    assert dropped.payload.dropped == ("task-1", "task-2")
    assert "budget is spent" in dropped.payload.reason


def test_a_turn_that_ends_in_an_error_fails_the_agent() -> None:
    agent = working()
    assert agent.finish_turn(report(0.0, True, "overloaded")) is TurnOutcome.FAILED
    failed = agent.pending_events[-1]
    assert isinstance(failed, a.AgentFailed)
    assert failed.payload.error == "the turn ended in an error: overloaded"


def test_the_error_of_an_interrupted_turn_is_not_a_failure() -> None:
    agent = working()
    agent.interrupt("stop")
    assert agent.finish_turn(report(0.0, True, "interrupted")) is TurnOutcome.COMPLETED
    assert agent.status is AgentStatus.INTERRUPTED


def test_a_spent_session_stops_its_busy_agents_only() -> None:
    spent = Spend(0.1, 0.2)
    busy, idle = working(), Agent.create(uuid.uuid4(), "bob")
    busy.command("next")
    assert busy.stop_for_session(spent)
    assert [type(e).__name__ for e in busy.pending_events[-2:]] == [
        "BudgetExceeded",
        "AgentStatusChanged",
    ]
    assert busy.waiting == ()
    assert not idle.stop_for_session(spent)
    assert not working().stop_for_session(Spend(0.1, 0.05))


def _spend(app: Podium, session_id: uuid.UUID, name: str, cost_usd: float) -> None:
    app.command_agent(session_id, name, "work")
    agent = app.find_agent(session_id, name)
    agent.start_turn()
    agent.finish_turn(report(cost_usd))
    app.save(agent)


def test_a_sessions_spend_is_its_orchestrators_and_every_agents_it_had() -> None:
    app = Podium()
    session = app.start_session(budget_usd=1.0)
    other = app.start_session()
    for name in ("alice", "bob"):
        app.create_agent(session.id, name)
    app.create_agent(other.id, "carol")
    _spend(app, session.id, "alice", 0.25)
    _spend(app, session.id, "bob", 0.125)
    _spend(app, other.id, "carol", 5.0)  # another session's
    app.delete_agent(session.id, "bob")  # what it spent stays spent
    orchestrated = app.get_session(session.id)
    orchestrated.complete_turn(
        Usage(), cost_usd=0.5, duration_ms=1, num_turns=1, claude_session_id="o", model="m"
    )
    app.save(orchestrated)
    assert app.session_spend(session.id) == Spend(1.0, 0.875)


def test_every_command_passes_the_sessions_budget() -> None:
    app = Podium()
    session = app.start_session(budget_usd=0.1)
    app.create_agent(session.id, "alice")
    app.create_agent(session.id, "bob")
    task = app.command_agent(session.id, "bob", "first", "user", request="key")
    _spend(app, session.id, "alice", 0.1)
    assert app.session_spend(session.id).exhausted
    for source in ("user", "orchestrator"):
        with pytest.raises(BudgetExhausted, match=r"this session has spent \$0\.1000"):
            app.command_agent(session.id, "bob", "more", source)
    # A request that gave its command already is answered, not refused.
    assert app.command_agent(session.id, "bob", "first", "user", request="key") == task
