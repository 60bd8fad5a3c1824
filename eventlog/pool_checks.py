"""Connection pools that get over a PostgreSQL restart at once.

psycopg_pool's ``check`` callback tests each connection as the pool hands it
out and drops a dead one, but after every failed check it waits before it
tries the next (1 s, then 2, 4, 8 ...). After a restart every idle connection
is dead, so a pool holding n of them makes its caller wait about 2**n s: past
the pool's timeout for eventsourcing's pool of up to 12, the 500 seen 13 s
after a restart. The check here, when one connection proves dead, has the
pool test all of its idle ones there and then (``pool.check()`` drops the dead
and opens new ones), so the next connection handed out is alive.
"""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool, ConnectionPool


def sweep_dead_connections(pool: ConnectionPool[Any]) -> None:
    """Check each connection ``pool`` hands out; when one is dead, check them all."""

    def check_or_sweep(conn: Any) -> None:
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            pool.check()  # they most likely died together: drop the rest now
            raise

    # psycopg_pool takes the callback only in its constructor, and eventsourcing
    # constructs its own pool; the attribute is where the constructor keeps it.
    pool._check = check_or_sweep


def sweep_dead_async_connections(pool: AsyncConnectionPool[Any]) -> None:
    """``sweep_dead_connections`` for an asyncio pool."""

    async def check_or_sweep(conn: Any) -> None:
        try:
            await AsyncConnectionPool.check_connection(conn)
        except Exception:
            await pool.check()
            raise

    pool._check = check_or_sweep
