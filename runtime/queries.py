"""What the orchestrator's tools read: the read models, as of the runtime's writes.

The read models trail the log by a batch of the projection runner. A tool
that reads right after a command (create alice, then list agents) waits
until the projections have caught up with the log's head, so the model sees
its own writes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

Row = dict[str, Any]


class ReadModels:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def _rows(self, query: str, params: tuple[Any, ...] = ()) -> list[Row]:
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, params)
            return await cur.fetchall()

    async def caught_up(self, timeout: float = 10.0) -> bool:
        """Wait until every projection has applied the log's current head."""
        deadline = time.monotonic() + timeout
        while True:
            (row,) = await self._rows(
                "SELECT (SELECT coalesce(max(notification_id), 0) FROM podium_events) AS head, "
                "(SELECT coalesce(min(notification_id), 0) FROM projection_tracking "
                " WHERE projection <> 'runtime') AS applied"
            )
            if row["applied"] >= row["head"]:
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)

    async def agents(self, session_id: UUID) -> list[Row]:
        return await self._rows(
            "SELECT name, status, model, current_task, queued, input_tokens, output_tokens, "
            "cost_usd, turns, tool_uses, last_activity_at FROM agents "
            "WHERE session_id = %s AND status <> 'deleted' ORDER BY created_at",
            (session_id,),
        )

    async def agent(self, session_id: UUID, name: str) -> Row | None:
        rows = await self._rows(
            "SELECT agent_id, name, status, model, current_task, queued, input_tokens, "
            "output_tokens, cost_usd, turns, tool_uses, last_activity_at FROM agents "
            "WHERE session_id = %s AND lower(name) = lower(%s) "
            "ORDER BY incarnation DESC LIMIT 1",
            (session_id, name),
        )
        return rows[0] if rows else None

    async def task_log(
        self, agent_id: UUID, task: str | None, limit: int, offset: int
    ) -> list[Row]:
        # agent_logs keeps no payload: the log has it (the events view, by id).
        rows = await self._rows(
            "SELECT log.notification_id, log.event_type, log.category, log.summary, "
            "e.payload, log.at FROM ("
            " SELECT notification_id, event_type, category, summary, at FROM agent_logs"
            " WHERE agent_id = %s AND task IS NOT DISTINCT FROM %s"
            " ORDER BY notification_id DESC LIMIT %s OFFSET %s"
            ") AS log JOIN events AS e USING (notification_id) "
            "ORDER BY log.notification_id DESC",
            (agent_id, task, limit, offset),
        )
        return list(reversed(rows))

    async def system_logs(self, level: str | None, limit: int) -> list[Row]:
        return list(
            reversed(
                await self._rows(
                    "SELECT at, level, message, context FROM system_logs "
                    "WHERE %s::text IS NULL OR level = %s "
                    "ORDER BY notification_id DESC LIMIT %s",
                    (level, level, limit),
                )
            )
        )

    async def session_spend(self, session_id: UUID) -> float:
        """What the session (orchestrator and agents) has spent, as of the log's head."""
        await self.caught_up()
        rows = await self._rows(
            "SELECT coalesce(sum(cost_usd), 0) AS spent FROM costs WHERE session_id = %s",
            (session_id,),
        )
        return float(rows[0]["spent"])

    async def costs(self, session_id: UUID) -> list[Row]:
        return await self._rows(
            "SELECT actor_kind, actor_name, model, sum(turns) AS turns, "
            "sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, "
            "sum(cost_usd) AS cost_usd FROM costs WHERE session_id = %s "
            "GROUP BY actor_kind, actor_name, model ORDER BY actor_kind DESC, actor_name, model",
            (session_id,),
        )
