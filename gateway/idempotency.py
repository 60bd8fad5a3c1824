"""Idempotency-Key: a retried command is answered again, not executed again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import Response

from gateway.problems import Problem

Handler = Callable[[Request], Awaitable[Response]]
MAX_KEY = 200


def idempotent(pool: AsyncConnectionPool, handler: Handler) -> Handler:
    async def run(request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        if key is None:
            return await handler(request)
        if not 0 < len(key) <= MAX_KEY:
            raise Problem(422, f"Idempotency-Key must be 1 to {MAX_KEY} characters")
        what = f"{request.method} {request.url.path}"
        async with pool.connection() as conn:
            claimed = await conn.execute(
                "INSERT INTO idempotency_keys (key, request) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING RETURNING key",
                (key, what),
            )
            if await claimed.fetchone() is None:
                seen = await conn.execute(
                    "SELECT request, status, body FROM idempotency_keys WHERE key = %s", (key,)
                )
                row = await seen.fetchone()
                assert row is not None
                if row[0] != what:
                    raise Problem(422, f"this Idempotency-Key was used for {row[0]}")
                if row[1] is None:
                    raise Problem(409, "a request with this Idempotency-Key is still running")
                return Response(bytes(row[2]), status_code=row[1], media_type="application/json")
        try:
            response = await handler(request)
        except BaseException:
            async with pool.connection() as conn:
                await conn.execute("DELETE FROM idempotency_keys WHERE key = %s", (key,))
            raise
        async with pool.connection() as conn:
            await conn.execute(
                "UPDATE idempotency_keys SET status = %s, body = %s WHERE key = %s",
                (response.status_code, bytes(response.body), key),
            )
        return response

    return run
