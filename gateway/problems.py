"""Errors as RFC 9457 problem documents: a status, a title, a detail a person can act on."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import psycopg
from eventsourcing.persistence import IntegrityError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from domain import errors

logger = logging.getLogger(__name__)
RETRY_AFTER_S = 1

STATUS_OF: dict[type[errors.DomainError], int] = {
    errors.SessionNotFound: 404,
    errors.AgentNotFound: 404,
    errors.DuplicateAgentName: 409,
    errors.AgentIsDeleted: 409,
    errors.SessionIsEnded: 409,
    errors.BudgetExhausted: 409,
    errors.ApprovalNotFound: 404,
    errors.AlreadyDecided: 409,
}
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(Exception):
    """Raise to answer with a problem document."""

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra


def problem_response(status: int, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status}
    body["detail"] = detail
    body.update(extra)
    return Response(
        msgspec.json.encode(body), status_code=status, media_type="application/problem+json"
    )


async def on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc.status, exc.detail, **exc.extra)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status, headers = exc.status_code, dict(exc.headers or {})
    detail = exc.detail or TITLES.get(status, "")
    if status in (404, 405) and (methods := _endpoint_methods(request)):
        # The UI's static files are mounted at "/", so they answer (404, or 405 to anything
        # but GET) a method an endpoint's path does not take: that path's methods are the truth.
        status, headers["Allow"] = 405, methods
        detail = f"{request.method} {request.url.path} is not allowed; it takes {methods}"
    elif status == 405:
        headers.setdefault("Allow", "GET, HEAD")  # what static files answer
    response = problem_response(status, detail)
    response.headers.update(headers)
    return response


def _endpoint_methods(request: Request) -> str:
    """The methods of the endpoints whose path is the request's ("" if none): starlette's
    own Allow names the first such route only, and podium's table has one per method."""
    methods: set[str] = set()
    for route in getattr(request.scope.get("router"), "routes", ()):
        allowed = getattr(route, "methods", None)  # a Mount has none: it is not one endpoint
        if allowed and route.matches(request.scope)[0] != Match.NONE:
            methods |= allowed
    return ", ".join(sorted(methods))


async def on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.DomainError)
    return problem_response(STATUS_OF.get(type(exc), 422), str(exc))


async def on_write_conflict(request: Request, exc: Exception) -> Response:
    # Another writer (the runtime recording an agent's turn, a delete) appended to the
    # same aggregate between this request's read and its save, more often than it retried.
    return problem_response(
        409, "the agent or session changed while this was being decided; try again"
    )


async def on_validation_error(request: Request, exc: Exception) -> Response:
    return problem_response(422, f"invalid request body: {exc}")


async def on_database_unavailable(request: Request, exc: Exception) -> Response:
    """The database is unreachable (a restart, an outage): neither podium's fault nor
    the client's, so 503 with Retry-After; a command may be retried with the same
    Idempotency-Key. (psycopg_pool's PoolTimeout is an OperationalError too.) Other
    database errors stay 500s: they are bugs."""
    reason = " ".join(str(exc).split())
    logger.warning(
        "the database is unavailable for %s %s: %s", request.method, request.url.path, reason
    )
    response = problem_response(503, "the database is unavailable; retry in a moment")
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


async def on_unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(500, "podium hit an unexpected error; it is in the server log")


HANDLERS: dict[Any, Any] = {
    Problem: on_problem,
    HTTPException: on_http_exception,
    errors.DomainError: on_domain_error,
    IntegrityError: on_write_conflict,
    msgspec.ValidationError: on_validation_error,
    psycopg.OperationalError: on_database_unavailable,
    StoreOperationalError: on_database_unavailable,
    Exception: on_unexpected,
}
