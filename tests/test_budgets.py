"""Budgets and the session's permission rules from the API: set, raise, remove, refused.
A real served podium (the real SDK and CLI against the model double), real PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from domain.permissions import Permissions
from tests.gateway_server import Served
from tests.test_approvals import eventually, query

TINY = 0.0001  # less than any turn costs


def session_with(client: httpx.Client, *agents: str) -> str:
    session = client.post("/api/sessions", json={"title": "budgets"}).json()["session_id"]
    for name in agents:
        created = client.post(f"/api/sessions/{session}/agents", json={"name": name})
        assert created.status_code == 201, created.text
    return str(session)


def budget_events(served: Served) -> list[tuple[Any, ...]]:
    return query(
        served.conninfo,
        "SELECT stream_type, payload->'budget_usd', payload->>'by' FROM events "
        "WHERE event_type = 'BudgetSet' ORDER BY notification_id",
    )


def test_a_session_budget_is_set_raised_and_removed(served: Served, client: httpx.Client) -> None:
    session = session_with(client)
    url = f"/api/sessions/{session}/budget"
    for budget in (5.0, 7.5, None):
        answer = client.post(url, json={"budget_usd": budget})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"session_id": session, "budget_usd": budget, "spent_usd": 0.0}
    assert budget_events(served) == [
        ("session", 5.0, "user"),
        ("session", 7.5, "user"),
        ("session", None, "user"),
    ]


def test_an_agent_budget_is_set_and_answered_with_its_spend(
    served: Served, client: httpx.Client
) -> None:
    session = session_with(client, "Sam")
    answer = client.post(f"/api/sessions/{session}/agents/sam/budget", json={"budget_usd": 2})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "session_id": session,
        "agent": "Sam",
        "budget_usd": 2.0,
        "spent_usd": 0.0,
    }
    assert budget_events(served) == [("agent", 2.0, "user")]


def test_a_retried_budget_is_answered_again_not_set_again(
    served: Served, client: httpx.Client
) -> None:
    session = session_with(client)
    key = {"Idempotency-Key": "budget-once"}
    first = client.post(f"/api/sessions/{session}/budget", json={"budget_usd": 3}, headers=key)
    again = client.post(f"/api/sessions/{session}/budget", json={"budget_usd": 3}, headers=key)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert budget_events(served) == [("session", 3.0, "user")]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"budget_usd": -1}, ">= 0"),
        ('{"budget_usd": NaN}', "budget_usd is NaN"),
        ('{"budget_usd": Infinity}', "budget_usd is Infinity"),
        ({}, "missing required field `budget_usd`"),
        ({"budget_usd": 1, "by": "me"}, "unknown field `by`"),
        ({"budget_usd": "5"}, "Expected `float | null`"),
    ],
)
def test_a_malformed_budget_is_refused(
    client: httpx.Client, body: dict[str, Any] | str, complaint: str
) -> None:
    session = session_with(client, "sam")
    for url in (f"/api/sessions/{session}/budget", f"/api/sessions/{session}/agents/sam/budget"):
        if isinstance(body, str):
            answer = client.post(url, content=body, headers={"Content-Type": "application/json"})
        else:
            answer = client.post(url, json=body)
        assert answer.status_code == 422, (url, answer.text)
        assert complaint in answer.json()["detail"], answer.text


def test_unknown_sessions_and_agents_are_404_and_an_ended_session_refuses(
    served: Served, client: httpx.Client
) -> None:
    session = session_with(client)
    for url in (
        f"/api/sessions/{uuid4()}/budget",
        f"/api/sessions/{uuid4()}/agents/sam/budget",
        f"/api/sessions/{session}/agents/nobody/budget",
        "/api/sessions/not-an-id/budget",
    ):
        assert client.post(url, json={"budget_usd": 1}).status_code == 404, url
    unknown = f"/api/sessions/{uuid4()}/permissions"
    assert client.post(unknown, json={}).status_code == 404
    assert client.get(unknown).status_code == 404
    ended = served.app.get_session(UUID(session))
    ended.end("the test is done with it")
    served.app.save(ended)
    refused = client.post(f"/api/sessions/{session}/budget", json={"budget_usd": 1})
    assert refused.status_code == 409 and "ended" in refused.json()["detail"], refused.text


def commanded(client: httpx.Client, session: str, name: str, task: str) -> httpx.Response:
    return client.post(f"/api/sessions/{session}/agents/{name}/commands", json={"command": task})


def test_a_budget_raised_after_it_was_exceeded_lets_the_agent_work_again(
    served: Served, client: httpx.Client
) -> None:
    session = session_with(client)
    created = client.post(
        f"/api/sessions/{session}/agents", json={"name": "sam", "budget_usd": TINY}
    )
    assert created.status_code == 201, created.text
    assert commanded(client, session, "sam", "summarize the notes").status_code == 202
    exceeded = "SELECT payload->>'scope' FROM events WHERE event_type = 'BudgetExceeded'"
    assert eventually(lambda: query(served.conninfo, exceeded) or None, "BudgetExceeded") == [
        ("agent",)
    ]
    refused = commanded(client, session, "sam", "one more thing")
    assert refused.status_code == 409 and "budget" in refused.json()["detail"], refused.text

    raised = client.post(f"/api/sessions/{session}/agents/sam/budget", json={"budget_usd": 10})
    assert raised.status_code == 200, raised.text
    assert raised.json()["budget_usd"] == 10.0 and raised.json()["spent_usd"] > TINY
    accepted = commanded(client, session, "sam", "one more thing")
    assert accepted.status_code == 202, accepted.text
    task = accepted.json()["task"]
    done = (
        "SELECT count(*) FROM events WHERE event_type = 'TurnCompleted' AND payload->>'task' = %s"
    )
    eventually(lambda: query(served.conninfo, done, task)[0][0] or None, "the new turn's end")


def test_session_rules_are_read_and_replaced(served: Served, client: httpx.Client) -> None:
    session = session_with(client)
    url = f"/api/sessions/{session}/permissions"
    assert client.get(url).json() == {"allow": [], "ask": [], "deny": []}
    rules = {"allow": ["Bash(npm test:*)", "Read"], "ask": ["WebFetch(domain:example.com)"]}
    answer = client.post(url, json=rules)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {**rules, "deny": []}
    assert client.get(url).json() == answer.json()
    cleared = client.post(url, json={"deny": ["Bash(rm:*)"]})
    assert cleared.json() == {"allow": [], "ask": [], "deny": ["Bash(rm:*)"]}


@pytest.mark.parametrize(
    ("rules", "complaint"),
    [
        ({"allow": ["Bash(npm test"]}, "'Bash(npm test'"),
        ({"deny": ["WebFetch(example.com)"]}, "WebFetch is narrowed by domain:host"),
        ({"ask": [""]}, "the rule is empty"),
        ({"allow": "Read"}, "Expected `array`"),
        ({"never": ["Read"]}, "unknown field `never`"),
    ],
)
def test_a_malformed_rule_is_refused_by_name(
    client: httpx.Client, rules: dict[str, Any], complaint: str
) -> None:
    session = session_with(client)
    answer = client.post(f"/api/sessions/{session}/permissions", json=rules)
    assert answer.status_code == 422, answer.text
    assert complaint in answer.json()["detail"], answer.text


def test_an_agent_is_created_with_its_own_layer_of_rules(
    served: Served, client: httpx.Client
) -> None:
    session = session_with(client)
    rules = {"allow": ["Bash(npm test:*)"], "deny": ["WebFetch"]}
    answer = client.post(
        f"/api/sessions/{session}/agents", json={"name": "ann", "permissions": rules}
    )
    assert answer.status_code == 201, answer.text
    agent = served.app.find_agent(UUID(session), "ann")
    assert agent.permissions == Permissions(allow=("Bash(npm test:*)",), deny=("WebFetch",))
    malformed = client.post(
        f"/api/sessions/{session}/agents",
        json={"name": "bob", "permissions": {"allow": ["Bash(npm"]}},
    )
    assert malformed.status_code == 422 and "'Bash(npm'" in malformed.json()["detail"]
    # The read model trails the log by a projection batch: ann, and only ann, once it is there.
    listed = eventually(
        lambda: client.get(f"/api/sessions/{session}/agents").json()["agents"] or None,
        "ann in the agents read model",
    )
    assert [agent["name"] for agent in listed] == ["ann"]
