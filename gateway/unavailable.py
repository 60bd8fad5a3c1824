"""A request that needs the database while it is unreachable: 503, not 500.

During a PostgreSQL restart or outage, reads fail with psycopg's
``OperationalError`` (a pool that cannot connect raises ``PoolTimeout``, one
of them) and the write side with eventsourcing's ``OperationalError``. Neither
is podium's fault nor the client's: the answer is a 503 problem document
with ``Retry-After``, and the client may retry (commands with the same
``Idempotency-Key``). Other database errors stay 500s: they are bugs.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from eventsourcing.persistence import OperationalError as StoreOperationalError
from starlette.requests import Request
from starlette.responses import Response

from gateway.problems import problem_response

log = logging.getLogger(__name__)

RETRY_AFTER_S = 1


async def on_database_unavailable(request: Request, exc: Exception) -> Response:
    reason = " ".join(str(exc).split())
    log.warning(
        "the database is unavailable for %s %s: %s", request.method, request.url.path, reason
    )
    response = problem_response(503, "the database is unavailable; retry in a moment")
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


# Register with the application's exception handlers (gateway/problems.HANDLERS).
DATABASE_UNAVAILABLE_HANDLERS: dict[Any, Any] = {
    psycopg.OperationalError: on_database_unavailable,
    StoreOperationalError: on_database_unavailable,
}
