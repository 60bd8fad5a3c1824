"""/api/openapi.json tells the truth: security, formats, ranges, statuses, bodies (issue 12, 12)."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.params import NOTIFICATION_ID_MAX
from gateway.reads import MAX_LIMIT

COMMANDS = "/api/sessions/{session_id}/agents/{name}/commands"


def document(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def parameter(operation: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in operation["parameters"] if p["name"] == name)


def test_it_states_how_to_authenticate(client: httpx.Client) -> None:
    spec = document(client)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer"}
    assert schemes["cookie"] == {"type": "apiKey", "in": "cookie", "name": "podium_token"}
    assert {"bearer": []} in spec["security"]
    assert spec["paths"]["/healthz"]["get"]["security"] == []  # open, even with a token


def test_ids_and_numbers_have_their_formats_and_ranges(client: httpx.Client) -> None:
    paths = document(client)["paths"]
    for path, methods in paths.items():
        for operation in methods.values():
            if "{session_id}" in path:
                assert parameter(operation, "session_id")["schema"]["format"] == "uuid", path
    chat = paths["/api/sessions/{session_id}/chat"]["get"]
    assert parameter(chat, "after")["schema"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": NOTIFICATION_ID_MAX,
    }
    assert parameter(chat, "limit")["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_LIMIT,
    }
    assert not parameter(chat, "after")["required"]


def test_every_status_an_operation_answers_is_listed(client: httpx.Client) -> None:
    paths = document(client)["paths"]
    created = paths["/api/sessions"]["post"]["responses"]
    assert "201" in created and "200" not in created
    assert {"403", "413", "415", "422"} <= set(created)
    assert "201" in paths["/api/sessions/{session_id}/agents"]["post"]["responses"]
    for accepted in (
        paths[COMMANDS]["post"],
        paths["/api/sessions/{session_id}/messages"]["post"],
        paths["/api/sessions/{session_id}/agents/{name}/interrupt"]["post"],
        paths["/api/sessions/{session_id}/agents/{name}"]["delete"],
    ):
        assert {"202", "404", "409", "415"} <= set(accepted["responses"])
    read = paths["/api/sessions/{session_id}/logs"]["get"]["responses"]
    assert {"200", "404", "422"} <= set(read) and "413" not in read
    assert "text/event-stream" in paths["/api/stream"]["get"]["responses"]["200"]["content"]


def test_a_body_is_required_exactly_where_an_empty_one_is_refused(
    client: httpx.Client,
) -> None:
    paths = document(client)["paths"]
    assert paths["/api/sessions"]["post"]["requestBody"]["required"] is False
    assert client.post("/api/sessions", headers={"Content-Type": "application/json"}).is_success
    session = client.post("/api/sessions", json={}).json()["session_id"]
    messages = paths["/api/sessions/{session_id}/messages"]["post"]
    assert messages["requestBody"]["required"] is True
    empty = client.post(
        f"/api/sessions/{session}/messages", headers={"Content-Type": "application/json"}
    )
    assert empty.status_code == 422
    assert "requestBody" not in paths["/api/sessions/{session_id}/agents/{name}"]["delete"]


def test_budgets_and_rules_are_commands_with_their_bodies(client: httpx.Client) -> None:
    spec = document(client)
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    for path, body in (
        ("/api/sessions/{session_id}/budget", "NewBudget"),
        ("/api/sessions/{session_id}/agents/{name}/budget", "NewBudget"),
        ("/api/sessions/{session_id}/permissions", "RuleLayer"),
        ("/api/approvals/{approval_id}/decision", "Decision"),
    ):
        operation = paths[path]["post"]
        assert parameter(operation, "Idempotency-Key")["in"] == "header", path
        assert {"200", "401", "404", "409", "422"} <= set(operation["responses"]), path
        reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert reference == f"#/components/schemas/{body}" and body in schemas, path
    assert paths["/api/sessions/{session_id}/budget"]["post"]["requestBody"]["required"]
    assert schemas["NewBudget"]["required"] == ["budget_usd"]
    assert "get" in paths["/api/sessions/{session_id}/permissions"]
