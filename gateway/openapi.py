"""/api/openapi.json: every endpoint, its parameters, bodies and answers.

Each route of the table (gateway/endpoints.py) is an ``Endpoint``: a
Starlette route that carries what the document says of it. The document is
written from the routes the app serves, and the limits it states are the
constants the code checks, so it cannot drift from what podium does:
schemathesis holds it to that (tests/test_schemathesis.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, NamedTuple

import msgspec
from psycopg_pool import AsyncConnectionPool
from starlette.routing import Route

from gateway.idempotency import MAX_KEY, Handler, idempotent
from gateway.token_auth import COOKIE, OPEN_PATHS

JsonSchema = dict[str, Any]
JSON = "application/json"


class Param(NamedTuple):
    where: str  # "path", "query" or "header"
    schema: JsonSchema


class Endpoint(Route):
    """One HTTP endpoint: a route, with what the OpenAPI document says of it.

    A command (``claims``: the pool its Idempotency-Key claims are kept on)
    answers a retry with the same key again instead of running again; one
    ``replayed_by_key`` records the key in the log, so that a retry whose
    first run was cut short can be run again (gateway/idempotency.py).
    """

    # The table reads best with the fields in the order the document gives them.
    def __init__(  # noqa: PLR0917
        self,
        method: str,
        path: str,
        handler: Handler,
        summary: str,
        body: type[msgspec.Struct] | None = None,
        params: Mapping[str, Param] = MappingProxyType({}),  # by name
        status: int = 200,  # what it answers when it did what was asked
        answer: Mapping[str, Any] = MappingProxyType({"type": "object"}),  # its 2xx body
        *,
        claims: AsyncConnectionPool | None = None,
        replayed_by_key: bool = False,
        needs_database: bool = True,  # False: it answers without PostgreSQL
        media_type: str = JSON,  # of its 2xx answer
    ) -> None:
        name = handler.__name__
        if claims is not None:
            handler = idempotent(claims, handler, replayed_by_key)
        super().__init__(path, handler, methods=[method], name=name)
        self.method = method
        self.summary = summary
        self.body = body
        self.params = params
        self.status = status
        self.answer = answer
        self.is_command = claims is not None
        self.needs_database = needs_database
        self.media_type = media_type


def object_schema(**properties: JsonSchema) -> JsonSchema:
    """A JSON object with (at least) these members."""
    return {"type": "object", "properties": properties, "required": list(properties)}


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
    if endpoint.needs_database:
        statuses.add(503)  # the database is unreachable (gateway/problems.py)
    if any(param.where != "path" for param in endpoint.params.values()):
        statuses.add(422)  # a parameter out of its range
    if {"session_id", "approval_id"} & endpoint.params.keys():
        statuses.add(404)  # no such session (or agent, or approval request)
    if endpoint.is_command:
        # Not JSON; a rule of the domain (a duplicate name, a deleted agent, an ended
        # session, a spent budget) or an Idempotency-Key still running (409) or reused (422).
        statuses |= {409, 415, 422}
    if "name" in endpoint.params:
        statuses.add(422)  # not an agent name
    if endpoint.body is not None:
        statuses |= {400, 413, 422}  # not JSON; too large; not the body's shape
    return statuses


def _answer(endpoint: Endpoint) -> dict[str, Any]:
    schema = endpoint.answer if endpoint.media_type == JSON else {"type": "string"}
    return {
        "description": HTTPStatus(endpoint.status).phrase,
        "content": {endpoint.media_type: {"schema": dict(schema)}},
    }


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": param.where, "required": param.where == "path", "schema": param.schema}
        for name, param in endpoint.params.items()
    ]
    if endpoint.is_command:
        parameters.append(IDEMPOTENCY_KEY)
    responses: dict[str, Any] = {str(endpoint.status): _answer(endpoint)}
    for status in sorted(_refusals(endpoint)):
        responses[str(status)] = {"description": HTTPStatus(status).phrase, "content": PROBLEM}
    operation: dict[str, Any] = {
        "operationId": endpoint.name,
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
                JSON: {"schema": {"$ref": f"#/components/schemas/{endpoint.body.__name__}"}}
            },
        }
    return operation


def document(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    """The OpenAPI document of ``endpoints``."""
    bodies = {endpoint.body.__name__: endpoint.body for endpoint in endpoints if endpoint.body}
    _, components = msgspec.json.schema_components(
        [bodies[name] for name in sorted(bodies)], ref_template="#/components/schemas/{name}"
    )
    components["Problem"] = object_schema(
        type={"type": "string"},
        title={"type": "string"},
        status={"type": "integer"},
        detail={"type": "string"},
    )
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
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
