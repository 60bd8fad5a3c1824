"""What the orchestrator's tools read: the read models, as of the runtime's writes.

The read models trail the log by a batch of the projection runner. A tool
that reads right after a command (create alice, then list agents) waits
until the projections have caught up with the log's head
(projections/caught_up.py), so the model sees its own writes. Policy never
reads these (budgets and statuses are the aggregates'): they are what the
model is shown.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from domain.statuses import AgentStatus
from projections.caught_up import caught_up

Row = dict[str, Any]


class OrchestratorReads:
    """The read models, as the orchestrator's tools show them to the model."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def _rows(self, query: str, params: tuple[Any, ...] = ()) -> list[Row]:
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, params)
            return await cur.fetchall()

    async def caught_up(self, timeout: float = 10.0) -> bool:
        """Wait until the read models have applied the log's current head."""
        return await caught_up(self.pool, timeout)

    async def agents(self, session_id: UUID) -> list[Row]:
        return await self._rows(
            "SELECT name, status, model, current_task, queued, input_tokens, output_tokens, "
            "cost_usd, turns, tool_uses, last_activity_at FROM agents "
            "WHERE session_id = %s AND status <> %s ORDER BY created_at",
            (session_id, AgentStatus.DELETED.value),
        )

    async def agent(self, session_id: UUID, name: str) -> Row | None:
        rows = await self._rows(
            "SELECT agent_id, name, status, model, current_task, queued, input_tokens, "
            "output_tokens, cost_usd, turns, tool_uses, last_activity_at, summary FROM agents "
            "WHERE session_id = %s AND lower(name) = lower(%s) "
            "ORDER BY incarnation DESC LIMIT 1",
            (session_id, name),
        )
        return rows[0] if rows else None

    async def pending_approvals(self, session_id: UUID) -> list[Row]:
        """The session's requests nobody has decided yet, oldest first."""
        return await self._rows(
            "SELECT id, agent, tool, input FROM approvals "
            "WHERE session_id = %s AND status = 'pending' ORDER BY notification_id",
            (session_id,),
        )

    async def task_log(
        self, agent_id: UUID, task: str | None, limit: int, offset: int
    ) -> list[Row]:
        # agent_logs keeps no payload: the log has it (the events view, by id).
        # An event's AI summary, where it has one, says more than the mechanical line.
        rows = await self._rows(
            "SELECT log.notification_id, log.event_type, log.category, log.summary, "
            "e.payload, log.at FROM ("
            " SELECT notification_id, event_type, category,"
            " coalesce(ai_summary, summary) AS summary, at FROM agent_logs"
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

    async def costs(self, session_id: UUID) -> list[Row]:
        return await self._rows(
            "SELECT actor_kind, actor_name, model, sum(turns) AS turns, "
            "sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, "
            "sum(cost_usd) AS cost_usd FROM costs WHERE session_id = %s "
            "GROUP BY actor_kind, actor_name, model ORDER BY actor_kind DESC, actor_name, model",
            (session_id,),
        )
