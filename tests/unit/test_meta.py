"""GET /api/meta, no PostgreSQL: the UI's vocabulary is the domain's, served as is."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from domain.approval import ApprovalStatus, Scope
from domain.categories import CATEGORIES
from domain.statuses import AgentStatus, SessionStatus
from domain.vocabulary import Category, Level
from gateway.bodies import Decision
from gateway.meta import META, meta
from gateway.reads import LEVELS, LOG_CATEGORIES
from projections.read_models.agent_logs import AGENT_CATEGORIES


def test_meta_serves_the_domains_statuses_categories_and_levels() -> None:
    with TestClient(Starlette(routes=[Route("/api/meta", meta)])) as client:
        response = client.get("/api/meta")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == META
    assert META["statuses"]["agent"] == {status.name: status.value for status in AgentStatus}
    assert META["statuses"]["session"] == {status.name: status.value for status in SessionStatus}
    assert META["categories"] == [category.value for category in Category]
    assert META["levels"] == [level.value for level in Level]


def test_meta_serves_the_approvals_category_statuses_scopes_and_decisions() -> None:
    approvals = META["approvals"]
    assert approvals["category"] == Category.APPROVAL
    assert approvals["statuses"] == {status.name: status.value for status in ApprovalStatus}
    assert approvals["scopes"] == {scope.name: scope.value for scope in Scope}
    assert approvals["decisions"] == {"ALLOW": "allow", "DENY": "deny"}
    for decision in approvals["decisions"].values():  # each one a body the gateway takes
        assert Decision(decision=decision).decision == decision


def test_the_filters_accept_what_the_vocabulary_defines() -> None:
    assert set(LEVELS) == set(Level)
    # The agent logs hold agent events only: their filter takes exactly their categories.
    assert set(LOG_CATEGORIES) == set(AGENT_CATEGORIES.values())
    assert Category.CHAT not in LOG_CATEGORIES and Category.SYSTEM not in LOG_CATEGORIES
    assert all(CATEGORIES[cls] == category for cls, category in AGENT_CATEGORIES.items())
