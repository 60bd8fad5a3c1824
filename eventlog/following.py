"""Following the log as it grows: woken by appends, and back after failures.

Every consumer that follows the log live (the gateway's feed, the runtime,
the projection runner) does the same two things: wait until something is appended, which the
store's insert announces with NOTIFY, and carry on after the database went
away for a while. Both live here so they behave the same everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from eventlog.postgres import EVENTS_TABLE

logger = logging.getLogger(__name__)
T = TypeVar("T")

# A notification can be missed (one sent while reconnecting); waking at least
# this often bounds what that costs.
WAKE_AT_LEAST_EVERY = 1.0
RETRY_AFTER = 1.0
LISTEN = sql.SQL("LISTEN {}").format(sql.Identifier(EVENTS_TABLE))


class Appends:
    """Waits for appends to the log, announced on the events table's channel."""

    def __init__(self, conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        self.conn = conn

    async def wait(self) -> None:
        """Return once something was appended, or after a second at the latest."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WAKE_AT_LEAST_EVERY):
                async for _ in self.conn.notifies():
                    break


@contextlib.asynccontextmanager
async def listening(conninfo: str, who: str) -> AsyncIterator[Appends]:
    """Listen for appends on a connection of its own (named ``who`` in
    pg_stat_activity), closed at the end."""
    async with await psycopg.AsyncConnection.connect(
        conninfo, autocommit=True, application_name=who
    ) as conn:
        await conn.execute(LISTEN)
        yield Appends(conn)


class BlockingAppends:
    """``Appends`` for a thread: its connection (autocommit) also reads the log."""

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        self.conn = conn

    def wait(self, timeout: float = WAKE_AT_LEAST_EVERY) -> None:
        """Return once something was appended, or after ``timeout`` seconds at the latest."""
        for _ in self.conn.notifies(timeout=timeout, stop_after=1):
            pass


@contextlib.contextmanager
def listening_blocking(conninfo: str, who: str) -> Iterator[BlockingAppends]:
    """``listening`` for a thread: a connection of its own, closed at the end."""
    with psycopg.connect(conninfo, autocommit=True, application_name=who) as conn:
        conn.execute(LISTEN)
        yield BlockingAppends(conn)


async def keep_following(follow: Callable[[], Awaitable[T]], who: str) -> T:
    """Run ``follow`` until it returns; when it fails (the database went away,
    a connection broke), say so and run it again a second later."""
    while True:
        try:
            return await follow()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s lost the log; following it again in a second", who)
            await asyncio.sleep(RETRY_AFTER)
