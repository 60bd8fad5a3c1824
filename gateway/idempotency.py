"""Idempotency-Key: a retried command is answered again, not executed again.

A request with a key first claims it: a row of ``idempotency_keys`` naming
its owner (this handler in this process) and when it claimed it. When the
handler is done its answer is stored there, and every retry with the key
gets that answer. What can go wrong in between, and what a retry then gets:

- The handler is still running (here: known exactly; in another process:
  for up to ``TAKE_OVER_AFTER_S``): 409 "still running", ask again later.
- The answer could not be stored (the database was cut off as it was
  written): the handler's caller still gets it, and this process keeps it
  until a retry stores it.
- The handler raised: the claim is given up (deleted), or, when even that
  fails, a retry here takes it over and runs the handler again, as after a
  delete.
- The owner is gone (podium killed, or another process silent for longer
  than ``TAKE_OVER_AFTER_S``): a retry takes the claim over, exactly one
  retry (the row changes only if it is still the claim the retry saw). For a
  handler whose command records its key in the log (``replayed_by_key``, as
  AgentCommanded's ``request`` does), the take-over runs the handler again and
  the domain answers from the log: the task given for this key, with
  nothing given twice even if the first owner is alive after all (the
  agent's stream is the arbiter: concurrent appends conflict, and the loser
  reloads and finds the key). For any other handler nothing in the log says
  whether its command took effect, so the retry is told that, 409 with
  "cut short", rather than risk running it twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import Response

from gateway.problems import Problem

logger = logging.getLogger(__name__)
Handler = Callable[[Request], Awaitable[Response]]
MAX_KEY = 200
# Longer than any command takes while its process lives (its database calls
# time out well before), short enough for a client retrying after a crash.
TAKE_OVER_AFTER_S = 10.0

STILL_RUNNING = "a request with this Idempotency-Key is still running"
CUT_SHORT = (
    "the request with this Idempotency-Key was cut short (podium stopped while it ran): "
    "whether it took effect is not known; look at the session's events, and send it "
    "again with a new key if it did not"
)


def _answer(status: int, body: bytes) -> Response:
    return Response(body, status_code=status, media_type="application/json")


class KeyedHandler:
    """One handler behind the Idempotency-Key claims: the owner of its claims."""

    def __init__(self, pool: AsyncConnectionPool, handler: Handler, replayed_by_key: bool) -> None:
        self.pool = pool
        self.handler = handler
        # Its command is recorded in the log with its key: running it again with
        # the key gives the first answer, not a new command.
        self.replayed_by_key = replayed_by_key
        self.owner = f"{getattr(handler, '__name__', 'handler')} {uuid.uuid4()}"
        self.running: set[str] = set()  # keys whose handler runs now, here
        self.unstored: dict[str, Response] = {}  # answers the database did not take

    async def run(self, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        if key is None:
            return await self.handler(request)
        if not 0 < len(key) <= MAX_KEY:
            raise Problem(422, f"Idempotency-Key must be 1 to {MAX_KEY} characters")
        answered = await self._claim(key, f"{request.method} {request.url.path}")
        if answered is not None:
            return answered
        self.running.add(key)
        try:
            response = await self.handler(request)
        except BaseException:
            self.running.discard(key)
            await self._give_up(key)
            raise
        self.running.discard(key)
        await self._store(key, response)
        return response

    async def _claim(self, key: str, what: str) -> Response | None:
        """None once this request owns the key; else the answer to give."""
        async with self.pool.connection() as conn:
            claimed = await conn.execute(
                "INSERT INTO idempotency_keys (key, request, owner) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING RETURNING key",
                (key, what, self.owner),
            )
            if await claimed.fetchone() is not None:
                return None
            seen = await conn.execute(
                "SELECT request, status, body, owner, claimed_at, "
                "now() - claimed_at > make_interval(secs => %s) "
                "FROM idempotency_keys WHERE key = %s",
                (TAKE_OVER_AFTER_S, key),
            )
            row = await seen.fetchone()
        if row is None:  # given up meanwhile: claim it afresh
            return await self._claim(key, what)
        request, status, body, owner, claimed_at, stale = row
        if request != what:
            raise Problem(422, f"this Idempotency-Key was used for {request}")
        if status is not None:
            return _answer(status, bytes(body))
        if owner == self.owner:
            if key in self.running:
                raise Problem(409, STILL_RUNNING)
            if key in self.unstored:
                response = self.unstored[key]
                await self._store(key, response)
                return response
        elif not stale:
            raise Problem(409, STILL_RUNNING)
        elif not self.replayed_by_key:
            raise Problem(409, CUT_SHORT)
        await self._take_over(key, owner, claimed_at)
        return None

    async def _take_over(self, key: str, owner: str | None, claimed_at: datetime) -> None:
        """Make the claim this request's, if it is still the one seen: one retry wins."""
        async with self.pool.connection() as conn:
            taken = await conn.execute(
                "UPDATE idempotency_keys SET owner = %s, claimed_at = now() "
                "WHERE key = %s AND status IS NULL AND owner IS NOT DISTINCT FROM %s "
                "AND claimed_at = %s RETURNING key",
                (self.owner, key, owner, claimed_at),
            )
            if await taken.fetchone() is None:
                raise Problem(409, STILL_RUNNING)  # another retry took it over first
        logger.warning("Idempotency-Key %r: took over a claim cut short (owner %s)", key, owner)

    async def _store(self, key: str, response: Response) -> None:
        """Keep the answer for retries; kept here instead when the database is cut off."""
        try:
            async with self.pool.connection() as conn:
                await conn.execute(
                    "UPDATE idempotency_keys SET status = %s, body = %s WHERE key = %s",
                    (response.status_code, bytes(response.body), key),
                )
        except Exception as error:
            self.unstored[key] = response
            logger.warning("Idempotency-Key %r: answer kept in memory, not stored: %s", key, error)
        else:
            self.unstored.pop(key, None)

    async def _give_up(self, key: str) -> None:
        """The handler failed: free the key for a retry (or leave it, ours, to be taken over)."""
        try:
            async with self.pool.connection() as conn:
                await conn.execute("DELETE FROM idempotency_keys WHERE key = %s", (key,))
        except Exception as error:
            logger.warning("Idempotency-Key %r: claim not given up: %s", key, error)


def idempotent(
    pool: AsyncConnectionPool, handler: Handler, replayed_by_key: bool = False
) -> Handler:
    """``handler`` behind Idempotency-Key claims kept on ``pool``."""
    return KeyedHandler(pool, handler, replayed_by_key).run  # Starlette calls it with the request
