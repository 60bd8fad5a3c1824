"""/api/openapi.json: every endpoint, its parameters, bodies and answers."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import msgspec

from gateway.bodies import NewAgent, NewCommand, NewMessage, NewSession


class Endpoint(NamedTuple):
    """One HTTP endpoint: the route table and the OpenAPI document both read these."""

    method: str
    path: str
    handler: str  # the name of the Routes method that answers it
    summary: str
    body: type[msgspec.Struct] | None = None
    params: Mapping[str, str] = MappingProxyType({})


S = {"session_id": "path"}
A = {"session_id": "path", "name": "path"}
PAGE = {"after": "query", "limit": "query"}
SP = {**S, **PAGE}

ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/healthz", "healthz", "Liveness"),
    Endpoint("GET", "/api/openapi.json", "openapi", "This document"),
    Endpoint("GET", "/api/sessions", "list_sessions", "List sessions, newest first"),
    Endpoint("POST", "/api/sessions", "create_session", "Start a session", NewSession),
    Endpoint("GET", "/api/sessions/{session_id}", "get_session", "One session", None, S),
    Endpoint(
        "POST",
        "/api/sessions/{session_id}/messages",
        "send_message",
        "Chat to the orchestrator",
        NewMessage,
        S,
    ),
    Endpoint(
        "GET", "/api/sessions/{session_id}/agents", "list_agents", "The session's agents", None, S
    ),
    Endpoint(
        "POST", "/api/sessions/{session_id}/agents", "create_agent", "Create an agent", NewAgent, S
    ),
    Endpoint(
        "POST",
        "/api/sessions/{session_id}/agents/{name}/commands",
        "command_agent",
        "Give an agent a task",
        NewCommand,
        A,
    ),
    Endpoint(
        "POST",
        "/api/sessions/{session_id}/agents/{name}/interrupt",
        "interrupt_agent",
        "Interrupt an agent",
        None,
        A,
    ),
    Endpoint(
        "DELETE",
        "/api/sessions/{session_id}/agents/{name}",
        "delete_agent",
        "Delete an agent",
        None,
        A,
    ),
    Endpoint(
        "GET", "/api/sessions/{session_id}/costs", "costs", "Cost per actor, model and day", None, S
    ),
    Endpoint("GET", "/api/sessions/{session_id}/chat", "chat", "The three-way chat", None, SP),
    Endpoint(
        "GET",
        "/api/sessions/{session_id}/logs",
        "logs",
        "Agent logs; filters: agent, category, type, q (text)",
        None,
        {**SP, "agent": "query", "category": "query", "type": "query", "q": "query"},
    ),
    Endpoint(
        "GET",
        "/api/sessions/{session_id}/file-changes",
        "file_changes",
        "File changes with diffs",
        None,
        {**SP, "agent": "query"},
    ),
    Endpoint(
        "GET",
        "/api/sessions/{session_id}/events",
        "session_events",
        "The session's events in log order, paged by notification id",
        None,
        SP,
    ),
    Endpoint(
        "GET",
        "/api/system-logs",
        "system_logs",
        "podium's system log",
        None,
        {**PAGE, "level": "query"},
    ),
    Endpoint(
        "GET",
        "/api/stream",
        "stream",
        "Server-Sent Events; Last-Event-ID (or after) resumes with no gap",
        None,
        {"session": "query", "agent": "query", "category": "query", "after": "query"},
    ),
]
COMMANDS = {
    "create_session",
    "send_message",
    "create_agent",
    "command_agent",
    "interrupt_agent",
    "delete_agent",
}


def _operation(
    summary: str, body: type[msgspec.Struct] | None, params: Mapping[str, str]
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [
            {"name": name, "in": where, "required": where == "path", "schema": {"type": "string"}}
            for name, where in params.items()
        ],
        "responses": {
            "200": {"description": "OK"},
            "4XX": {
                "description": "A problem document (RFC 9457)",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            },
        },
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{body.__name__}"}}
            },
        }
    return operation


def openapi() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(
        [NewSession, NewMessage, NewAgent, NewCommand], ref_template="#/components/schemas/{name}"
    )
    components["Problem"] = {
        "type": "object",
        "properties": {
            k: {"type": t}
            for k, t in {
                "type": "string",
                "title": "string",
                "status": "integer",
                "detail": "string",
            }.items()
        },
        "required": ["type", "title", "status", "detail"],
    }
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in ENDPOINTS:
        operation = _operation(endpoint.summary, endpoint.body, endpoint.params)
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "podium", "version": "0.1.0"},
        "paths": paths,
        "components": {"schemas": components},
    }
