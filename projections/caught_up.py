"""Whether the read models have caught up with the log: the read-your-writes
wait of a reader that just appended (created alice, now lists the agents).

The read models trail the log by a batch of the projection runner; a reader
that must see its own writes waits until every read model has applied the
log's head as it was when it asked.
"""

from __future__ import annotations

import asyncio
import time

from psycopg_pool import AsyncConnectionPool

from eventlog.reading import HEAD
from projections.read_models import NAMES

POLL_SECONDS = 0.05
APPLIED = (
    "SELECT coalesce(min(notification_id), 0) FROM projection_tracking WHERE projection = ANY(%s)"
)


async def caught_up(pool: AsyncConnectionPool, timeout: float = 10.0) -> bool:
    """Wait until every read model has applied the log's current head; False if
    ``timeout`` seconds were not enough (the reader then reads what there is)."""
    deadline = time.monotonic() + timeout
    async with pool.connection() as conn:
        cur = await conn.execute(HEAD)
        head = await cur.fetchone()
    while True:
        async with pool.connection() as conn:
            cur = await conn.execute(APPLIED, (list(NAMES),))
            applied = await cur.fetchone()
        if applied and head and applied[0] >= head[0]:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(POLL_SECONDS)
