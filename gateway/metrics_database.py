"""What ``/metrics`` reads from the database: the log and the read models.

Every process's work shows here, not only this one's: the events counted are
the log's, the lags are every tracked consumer's, the agents, turns, tokens,
costs and approvals are the read models'. Each scrape's reads are bounded: a
connection within a second, every statement within ``STATEMENT_TIMEOUT_MS``,
each read in its own savepoint, so one that fails (or times out) costs only
its own families and sets ``podium_metrics_errors{source}`` to 1; the scrape
still answers with the rest.

Events by type are counted from the log incrementally: each scrape counts at
most ``COUNT_STEP`` events past the last one counted (an index range scan on
the notification id, never the whole log), so a gateway started on a long log
catches up over its first scrapes; ``podium_events_counted_through`` says how
far it got. A count of the whole log by topic would scan every row on every
scrape.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import psycopg
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from domain.approval import ApprovalStatus
from eventlog.postgres import EVENTS_TABLE
from eventlog.reading import HEAD
from runtime.claims import LEADER_KEY

logger = logging.getLogger(__name__)

STATEMENT_TIMEOUT_MS = 2000
CONNECT_TIMEOUT_S = 1.0
COUNT_STEP = 200_000  # events counted by type per scrape, at most

AsyncConnection = psycopg.AsyncConnection[tuple[Any, ...]]
Rows = list[tuple[Any, ...]]

COUNT_BY_TOPIC = (
    f"SELECT topic, count(*) FROM {EVENTS_TABLE} "
    "WHERE notification_id > %s AND notification_id <= %s GROUP BY topic"
)
# The oldest event each tracked consumer has not applied: how far behind it is,
# in events (ids are gapless) and in seconds (that event's age).
LAGS = (
    f"WITH head AS ({HEAD}) "
    "SELECT t.projection, (SELECT * FROM head) - t.notification_id, "
    "coalesce(extract(epoch FROM now() - (podium_state(e.state, true) ->> 'timestamp')"
    "::timestamptz), 0) "
    f"FROM projection_tracking AS t LEFT JOIN {EVENTS_TABLE} AS e "
    "ON e.notification_id = t.notification_id + 1 ORDER BY t.projection"
)
AGENTS = "SELECT status, count(*) FROM agents GROUP BY status ORDER BY status"
COSTS = (
    "SELECT actor_kind, model, sum(turns), sum(input_tokens), sum(output_tokens), "
    "sum(cache_creation_input_tokens - cache_creation_1h_input_tokens), "
    "sum(cache_creation_1h_input_tokens), sum(cache_read_input_tokens), sum(cost_usd) "
    "FROM costs GROUP BY actor_kind, model ORDER BY actor_kind, model"
)
PENDING = "SELECT count(*) FROM approvals WHERE status = %s"
# The runtime's leader lock (runtime/claims.py), held by whichever session took
# it: an advisory lock on one bigint key shows as its two halves. pg_locks is
# the whole server's: only this database's lock counts.

LEADERS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND objsubid = 1 AND (classid::bigint << 32) | objid::bigint = "
    f"({LEADER_KEY})::bigint"
)
TOKEN_KINDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


def event_labels(topic: str) -> tuple[str, str]:
    """A topic ("package.module:Class") as the stream type and event type."""
    module, _, name = topic.partition(":")
    return module.rsplit(".", 1)[-1], name


class EventCounts:
    """Events in the log by type, counted a step at a time (see the module's doc)."""

    def __init__(self) -> None:
        self.through = 0  # the last notification id counted
        self.counts: dict[tuple[str, str], int] = {}
        self.lock = asyncio.Lock()  # two scrapes at once must not count a range twice

    async def advance(self, conn: AsyncConnection) -> int:
        """Count the next step of the log; the log's head."""
        async with self.lock:
            head = int((await (await conn.execute(HEAD)).fetchall())[0][0])
            until = min(head, self.through + COUNT_STEP)
            if until > self.through:
                cur = await conn.execute(COUNT_BY_TOPIC, (self.through, until))
                for topic, count in await cur.fetchall():
                    key = event_labels(topic)
                    self.counts[key] = self.counts.get(key, 0) + int(count)
                self.through = until
            return head

    def families(self, head: int) -> Iterable[Metric]:
        events = CounterMetricFamily(
            "podium_events",
            "Events in the log by stream and event type (every process's appends)",
            labels=["stream", "type"],
        )
        for (stream, kind), count in sorted(self.counts.items()):
            events.add_metric([stream, kind], count)
        yield events
        yield GaugeMetricFamily("podium_log_head", "The log's last notification id", head)
        yield GaugeMetricFamily(
            "podium_events_counted_through",
            "The notification id podium_events has counted up to (below the head while "
            "catching up on a long log)",
            self.through,
        )


async def _rows(conn: AsyncConnection, query: str, params: Sequence[Any] = ()) -> Rows:
    cur = await conn.execute(query, params)
    return await cur.fetchall()


def _lag_families(rows: Rows) -> Iterable[Metric]:
    events = GaugeMetricFamily(
        "podium_projection_lag_events",
        "Events a tracked consumer of the log (read model, the runtime's claims) has not "
        "applied yet",
        labels=["projection"],
    )
    seconds = GaugeMetricFamily(
        "podium_projection_lag_seconds",
        "Age of the oldest event a tracked consumer has not applied yet (0: caught up)",
        labels=["projection"],
    )
    for name, behind, age in rows:
        events.add_metric([name], max(0, int(behind)))
        seconds.add_metric([name], max(0.0, float(age)) if behind > 0 else 0.0)
    return events, seconds


def _agent_families(rows: Rows) -> Iterable[Metric]:
    agents = GaugeMetricFamily("podium_agents", "Agents by status", labels=["status"])
    for status, count in rows:
        agents.add_metric([status], int(count))
    return (agents,)


def _cost_families(rows: Rows) -> Iterable[Metric]:
    turns = CounterMetricFamily(
        "podium_turns", "Turns completed, by actor kind and model", labels=["actor", "model"]
    )
    tokens = CounterMetricFamily(
        "podium_tokens", "Tokens used, by kind and model", labels=["kind", "model"]
    )
    usd = CounterMetricFamily("podium_cost_usd", "Cost in USD, by model", labels=["model"])
    by_model: dict[str, list[float]] = {}
    for actor, model, turn_count, *used, cost in rows:
        turns.add_metric([actor, model], int(turn_count))
        totals = by_model.setdefault(model, [0.0] * (len(TOKEN_KINDS) + 1))
        for i, value in enumerate((*used, cost)):
            totals[i] += float(value)
    for model, (*used, cost) in by_model.items():
        for kind, value in zip(TOKEN_KINDS, used, strict=True):
            tokens.add_metric([kind, model], value)
        usd.add_metric([model], cost)
    return turns, tokens, usd


Read = Callable[[AsyncConnection], Awaitable[Iterable[Metric]]]


class DatabaseMetrics:
    """One scrape's families read from the database, never an exception."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool
        self.counts = EventCounts()
        self.reads: dict[str, Read] = {
            "events": self._events,
            "projection_tracking": self._lags,
            "agents": lambda conn: self._query(conn, _agent_families, AGENTS),
            "costs": lambda conn: self._query(conn, _cost_families, COSTS),
            "approvals": self._approvals,
            "runtime": self._leaders,
        }

    async def families(self) -> list[Metric]:
        found: list[Metric] = []
        failed = dict.fromkeys(self.reads, 1)
        try:
            async with (
                self.pool.connection(timeout=CONNECT_TIMEOUT_S) as conn,
                conn.transaction(),
            ):
                await conn.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
                for source, read in self.reads.items():
                    try:
                        async with conn.transaction():  # a savepoint: a failure is its own
                            found.extend(await read(conn))
                        failed[source] = 0
                    except psycopg.Error as error:
                        logger.warning("metrics: reading %s failed: %s", source, error)
        except (PoolTimeout, psycopg.Error) as error:
            logger.warning("metrics: the database is out of reach: %s", error)
        errors = GaugeMetricFamily(
            "podium_metrics_errors",
            "1 if this scrape could not read a source (its families are missing)",
            labels=["source"],
        )
        for source, value in failed.items():
            errors.add_metric([source], value)
        return [*found, errors]

    async def _query(
        self, conn: AsyncConnection, make: Callable[[Rows], Iterable[Metric]], query: str
    ) -> Iterable[Metric]:
        return make(await _rows(conn, query))

    async def _events(self, conn: AsyncConnection) -> Iterable[Metric]:
        return list(self.counts.families(await self.counts.advance(conn)))

    async def _lags(self, conn: AsyncConnection) -> Iterable[Metric]:
        return _lag_families(await _rows(conn, LAGS))

    async def _approvals(self, conn: AsyncConnection) -> Iterable[Metric]:
        rows = await _rows(conn, PENDING, (ApprovalStatus.PENDING.value,))
        return (
            GaugeMetricFamily(
                "podium_approvals_pending", "Requests for permission awaiting a person", rows[0][0]
            ),
        )

    async def _leaders(self, conn: AsyncConnection) -> Iterable[Metric]:
        rows = await _rows(conn, LEADERS)
        return (
            GaugeMetricFamily(
                "podium_runtime_leader",
                "Runtimes holding this database's leader lock (1: commands are acted on; "
                "0: no runtime is running)",
                rows[0][0],
            ),
        )
