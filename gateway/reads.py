"""Read models over HTTP: sessions, agents, costs, chat, logs, system logs, file changes.

Lists page by notification id (``after`` is the cursor, ``next_after`` the
next one) so a client never sees a row twice or misses one while the log
grows; the system log also pages newest first (``before``, ``next_before``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request

from domain.vocabulary import Category, Level
from eventlog.pool_checks import sweep_dead_async_connections
from gateway.params import shown
from gateway.problems import Problem
from projections.read_models.agent_logs import AGENT_CATEGORIES

MAX_LIMIT = 1_000
LEVELS: tuple[str, ...] = tuple(Level)  # what the system log filter accepts
# What the agent logs filter accepts: exactly the categories agent events have.
LOG_CATEGORIES: tuple[str, ...] = tuple(
    category for category in Category if category in AGENT_CATEGORIES.values()
)

# The approval queue, as the API lists it and `podium approvals` prints it.
APPROVALS = (
    "SELECT id, session_id, agent_id, agent, task, tool, input, rule, status, scope, message, "
    "requested_at, decided_at, decided_by, notification_id FROM approvals"
)


def session_id_of(request: Request) -> UUID:
    raw = request.path_params["session_id"]
    try:
        return UUID(raw)
    except ValueError:
        raise Problem(404, f"no session with id {shown(raw)}") from None


def contains(text: str) -> str:
    """An ILIKE pattern matching ``text`` literally anywhere: its ``%``, ``_`` and ``\\``
    are escaped (``\\`` is ILIKE's escape character) rather than taken as wildcards."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def read_model_pool(conninfo: str) -> AsyncConnectionPool:
    """The gateway's own connections to the read models (and its Idempotency-Key
    claims), opened by the caller; no dead one is handed out after a PostgreSQL
    restart."""
    pool = AsyncConnectionPool(
        conninfo, min_size=1, max_size=8, open=False, name="gateway read models"
    )
    sweep_dead_async_connections(pool)
    return pool


class ReadModelQueries:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, params)
            return await cur.fetchall()

    async def sessions(self) -> list[dict[str, Any]]:
        return await self.rows("SELECT * FROM sessions ORDER BY started_at DESC")

    async def session(self, session_id: UUID) -> dict[str, Any]:
        found = await self.rows("SELECT * FROM sessions WHERE session_id = %s", (session_id,))
        if not found:
            raise Problem(404, f"no session with id {session_id}")
        return found[0]

    async def agents(self, session_id: UUID) -> list[dict[str, Any]]:
        await self.session(session_id)
        return await self.rows(
            "SELECT agent_id, name, incarnation, status, model, template, current_task, queued, "
            "input_tokens, output_tokens, cache_creation_input_tokens, "
            "cache_creation_1h_input_tokens, cache_read_input_tokens, cost_usd, priced_usd, "
            "unpriced_turns, discrepancies, budget_usd, budget_warned, turns, tool_uses, "
            "created_at, last_activity_at, summary FROM agents WHERE session_id = %s "
            "ORDER BY created_at",
            (session_id,),
        )

    async def costs(self, session_id: UUID) -> list[dict[str, Any]]:
        await self.session(session_id)
        return await self.rows(
            "SELECT actor_kind, actor_name, model, day, turns, input_tokens, output_tokens, "
            "cache_creation_input_tokens, cache_creation_1h_input_tokens, "
            "cache_read_input_tokens, cost_usd, priced_usd, unpriced_turns, discrepancies "
            "FROM costs "
            "WHERE session_id = %s ORDER BY day, actor_kind DESC, actor_name, model",
            (session_id,),
        )

    async def page(
        self, table: str, where: list[str], params: list[Any], after: int, limit: int
    ) -> dict[str, Any]:
        conditions = " AND ".join([*where, "notification_id > %s"])
        found = await self.rows(
            f"SELECT * FROM {table} WHERE {conditions} ORDER BY notification_id LIMIT %s",
            (*params, after, limit),
        )
        next_after = found[-1]["notification_id"] if len(found) == limit else None
        return {"items": found, "next_after": next_after}

    async def newest_page(
        self, table: str, where: list[str], params: list[Any], span: tuple[int, int], limit: int
    ) -> dict[str, Any]:
        """The newest rows between ``span``'s ids (both excluded), newest first; the
        next (older) page is below ``next_before``."""
        after, before = span
        conditions = " AND ".join([*where, "notification_id > %s", "notification_id < %s"])
        found = await self.rows(
            f"SELECT * FROM {table} WHERE {conditions} ORDER BY notification_id DESC LIMIT %s",
            (*params, after, before, limit),
        )
        next_before = found[-1]["notification_id"] if len(found) == limit else None
        return {"items": found, "next_before": next_before}

    async def position(self, projection: str) -> int:
        """How far into the log a read model has applied it (0: not at all)."""
        found = await self.rows(
            "SELECT notification_id FROM projection_tracking WHERE projection = %s",
            (projection,),
        )
        return int(found[0]["notification_id"]) if found else 0
