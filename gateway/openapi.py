"""/api/openapi.json: every endpoint, its parameters, bodies and answers.

The route table (gateway/app.py) and this document read the same ENDPOINTS,
and the limits they state are the constants the code checks, so the
document cannot drift from what podium does: schemathesis holds it to that
(tests/test_schemathesis.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, NamedTuple

import msgspec

from domain.names import AGENT_NAME
from gateway.bodies import NewAgent, NewCommand, NewMessage, NewSession
from gateway.idempotency import MAX_KEY
from gateway.params import NOTIFICATION_ID_MAX
from gateway.reads import LEVELS, LOG_CATEGORIES, MAX_LIMIT
from gateway.stream import CATEGORIES
from gateway.token_auth import COOKIE, OPEN_PATHS

JsonSchema = dict[str, Any]


class Param(NamedTuple):
    where: str  # "path", "query" or "header"
    schema: JsonSchema


class Endpoint(NamedTuple):
    """One HTTP endpoint: the route table and the OpenAPI document both read these."""

    method: str
    path: str
    handler: str  # the name of the Routes method that answers it
    summary: str
    body: type[msgspec.Struct] | None = None
    params: Mapping[str, Param] = MappingProxyType({})  # by name
    status: int = 200  # what it answers when it did what was asked
    answer: Mapping[str, Any] = MappingProxyType({"type": "object"})  # its 2xx body


def _object(**properties: JsonSchema) -> JsonSchema:
    """A JSON object with (at least) these members."""
    return {"type": "object", "properties": properties, "required": list(properties)}


def _list_of(member: str) -> JsonSchema:
    return _object(**{member: {"type": "array", "items": {"type": "object"}}})


NOTIFICATION_ID: JsonSchema = {"type": "integer", "minimum": 0, "maximum": NOTIFICATION_ID_MAX}
NEXT_AFTER: JsonSchema = {"type": ["integer", "null"], "minimum": 1}
TEXT: JsonSchema = {"type": "string", "maxLength": 200}
SESSION_ID = Param("path", {"type": "string", "format": "uuid"})
AGENT: JsonSchema = {"type": "string", "pattern": f"^{AGENT_NAME.pattern}$"}

S = {"session_id": SESSION_ID}
A = {**S, "name": Param("path", AGENT)}
PAGE = {
    "after": Param("query", NOTIFICATION_ID),
    "limit": Param("query", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
}
SP = {**S, **PAGE}
AGENT_FILTER = {"agent": Param("query", {"type": "string", "maxLength": 64})}
PAGE_ANSWER = _object(items={"type": "array", "items": {"type": "object"}}, next_after=NEXT_AFTER)
SESSION = {
    "type": "object",
    "properties": {"session_id": {"type": "string", "format": "uuid"}, "title": {"type": "string"}},
    "required": ["session_id", "title"],
}

ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/healthz", "healthz", "Liveness", answer=_object(status={"const": "ok"})),
    Endpoint("GET", "/api/openapi.json", "openapi", "This document"),
    Endpoint(
        "GET",
        "/api/sessions",
        "list_sessions",
        "List sessions, newest first",
        answer=_list_of("sessions"),
    ),
    Endpoint(
        "POST",
        "/api/sessions",
        "create_session",
        "Start a session",
        NewSession,
        status=201,
        answer=SESSION,
    ),
    Endpoint(
        "GET", "/api/sessions/{session_id}", "get_session", "One session", None, S, 200, SESSION
    ),
    Endpoint(
        "POST",
        "/api/sessions/{session_id}/messages",
        "send_message",
        "Chat to the orchestrator",
        NewMessage,
        S,
        202,
        _object(accepted={"const": True}),
    ),
    Endpoint(
        "GET",
        "/api/sessions/{session_id}/agents",
        "list_agents",
        "The session's agents",
        None,
        S,
        answer=_list_of("agents"),
    ),
    Endpoint(
        "POST",
        "/api/sessions/{session_id}/agents",
        "create_agent",
        "Create an agent",
        NewAgent,
        S,
        201,
        _object(agent_id={"type": "string", "format": "uuid"}, name=AGENT, model=TEXT),
    ),
    Endpoint(
        "POST",
        "/api/sessions/{session_id}/agents/{name}/commands",
        "command_agent",
        "Give an agent a task",
        NewCommand,
        A,
        202,
        _object(task={"type": "string"}),
    ),
    Endpoint(
        "POST",
        "/api/sessions/{session_id}/agents/{name}/interrupt",
        "interrupt_agent",
        "Interrupt an agent",
        None,
        A,
        202,
        _object(detail={"type": "string"}),
    ),
    Endpoint(
        "DELETE",
        "/api/sessions/{session_id}/agents/{name}",
        "delete_agent",
        "Delete an agent",
        None,
        A,
        202,
        _object(deleted=AGENT),
    ),
    Endpoint(
        "GET",
        "/api/sessions/{session_id}/costs",
        "costs",
        "Cost per actor, model and day",
        None,
        S,
        answer=_list_of("costs"),
    ),
    Endpoint(
        "GET",
        "/api/sessions/{session_id}/chat",
        "chat",
        "The three-way chat",
        None,
        SP,
        answer=PAGE_ANSWER,
    ),
    Endpoint(
        "GET",
        "/api/sessions/{session_id}/logs",
        "logs",
        "Agent logs; filters: agent, category, type, q (text, matched literally)",
        None,
        {
            **SP,
            **AGENT_FILTER,
            "category": Param("query", {"type": "string", "enum": list(LOG_CATEGORIES)}),
            "type": Param("query", {"type": "string", "maxLength": 64}),
            "q": Param("query", TEXT),
        },
        answer=PAGE_ANSWER,
    ),
    Endpoint(
        "GET",
        "/api/sessions/{session_id}/file-changes",
        "file_changes",
        "File changes with diffs",
        None,
        {**SP, **AGENT_FILTER},
        answer=PAGE_ANSWER,
    ),
    Endpoint(
        "GET",
        "/api/sessions/{session_id}/events",
        "session_events",
        "The session's events in log order, paged by notification id",
        None,
        SP,
        answer=_object(
            events={"type": "array", "items": {"type": "object"}},
            next_after=NEXT_AFTER,
            head=NOTIFICATION_ID,
        ),
    ),
    Endpoint(
        "GET",
        "/api/system-logs",
        "system_logs",
        "podium's system log",
        None,
        {**PAGE, "level": Param("query", {"type": "string", "enum": list(LEVELS)})},
        answer=PAGE_ANSWER,
    ),
    Endpoint(
        "GET",
        "/api/projection-faults",
        "projection_faults",
        "Events each read model skipped as unreadable or unfoldable: the count per read "
        "model and the latest, with why",
        answer=_object(
            counts={"type": "object", "additionalProperties": {"type": "integer"}},
            recent={"type": "array", "items": {"type": "object"}},
        ),
    ),
    Endpoint(
        "GET",
        "/api/stream",
        "stream",
        "Server-Sent Events; Last-Event-ID (or after) resumes with no gap",
        None,
        {
            "session": Param("query", {"type": "string", "format": "uuid"}),
            "agent": Param("query", AGENT),
            "category": Param("query", {"type": "string", "enum": list(CATEGORIES)}),
            "after": Param("query", NOTIFICATION_ID),
            "Last-Event-ID": Param("header", NOTIFICATION_ID),
        },
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
NO_DATABASE = {"healthz", "openapi"}  # what answers without PostgreSQL
STREAMS = {"stream": "text/event-stream"}  # what is not JSON
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retried command a no-op: it is answered again, not executed again.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY},
}


def _refusals(endpoint: Endpoint) -> set[int]:
    """The statuses the endpoint can answer other than its success, and why."""
    statuses = {403}  # a Host or Origin that is not podium's (gateway/same_origin.py)
    if endpoint.path not in OPEN_PATHS:
        statuses.add(401)  # no token, where one is required
    if endpoint.handler not in NO_DATABASE:
        statuses.add(503)  # the database is unreachable (gateway/unavailable.py)
    if any(param.where != "path" for param in endpoint.params.values()):
        statuses.add(422)  # a parameter out of its range
    if "session_id" in endpoint.params:
        statuses.add(404)  # no such session (or agent)
    if endpoint.handler in COMMANDS:
        # Not JSON; a rule of the domain (a duplicate name, a deleted agent, an ended
        # session, a spent budget) or an Idempotency-Key still running (409) or reused (422).
        statuses |= {409, 415, 422}
    if "name" in endpoint.params:
        statuses.add(422)  # not an agent name
    if endpoint.body is not None:
        statuses |= {400, 413, 422}  # not JSON; too large; not the body's shape
    return statuses


def _answer(endpoint: Endpoint) -> dict[str, Any]:
    media = STREAMS.get(endpoint.handler, "application/json")
    schema = {"type": "string"} if media in STREAMS.values() else endpoint.answer
    return {
        "description": HTTPStatus(endpoint.status).phrase,
        "content": {media: {"schema": dict(schema)}},
    }


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": param.where, "required": param.where == "path", "schema": param.schema}
        for name, param in endpoint.params.items()
    ]
    if endpoint.handler in COMMANDS:
        parameters.append(IDEMPOTENCY_KEY)
    responses: dict[str, Any] = {str(endpoint.status): _answer(endpoint)}
    for status in sorted(_refusals(endpoint)):
        responses[str(status)] = {"description": HTTPStatus(status).phrase, "content": PROBLEM}
    operation: dict[str, Any] = {
        "operationId": endpoint.handler,
        "summary": endpoint.summary,
        "parameters": parameters,
        "responses": responses,
    }
    if endpoint.path in OPEN_PATHS:
        operation["security"] = []
    if endpoint.body is not None:
        fields = msgspec.structs.fields(endpoint.body)
        operation["requestBody"] = {
            "required": any(field.required for field in fields),
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{endpoint.body.__name__}"}
                }
            },
        }
    return operation


def openapi() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(
        [NewSession, NewMessage, NewAgent, NewCommand], ref_template="#/components/schemas/{name}"
    )
    components["Problem"] = _object(
        type={"type": "string"},
        title={"type": "string"},
        status={"type": "integer"},
        detail={"type": "string"},
    )
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in ENDPOINTS:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "podium", "version": "0.1.0"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": COOKIE},
                "query": {"type": "apiKey", "in": "query", "name": "token"},
            },
        },
        # Bound to loopback, podium needs no token (the empty requirement); elsewhere any one.
        "security": [{}, {"bearer": []}, {"cookie": []}, {"query": []}],
    }
