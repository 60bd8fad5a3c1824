"""Rebuild read models from notification 1, then swap them in atomically.

The new tables are built in a shadow schema while the live ones keep serving.
The swap is one transaction: it locks the projections' tracking rows (so no
runner applies a batch meanwhile), applies the events that arrived during the
build, moves the live tables out and the shadow tables in, and sets the
positions. A reader sees the old complete model or the new complete one,
never a partial one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from eventlog.reading import Connection, head
from projections.faults import replace_faults, tell
from projections.read_models import NAMES
from projections.runner import DEFAULT_BATCH
from projections.shadow import PROCESSES, SHADOW, Progress, ShadowBuild

RETIRED = "podium_retired"
REBUILD_LOCK = 0x72626C64  # "rbld"
SWAP_ATTEMPTS = 100


class RebuildInProgress(RuntimeError):
    def __init__(self) -> None:
        super().__init__("another rebuild is running on this database; try again when it ends")


@dataclass(frozen=True)
class RebuildResult:
    names: tuple[str, ...]
    events: int  # events folded (not the last notification id: ids have gaps)
    seconds: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def rebuild(
    conninfo: str,
    names: Sequence[str] = NAMES,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
    processes: int = PROCESSES,
) -> RebuildResult:
    """Rebuild the named read models from the whole log and swap them in.

    ``processes`` fold the bulk of the log (this one and workers, see
    ``projections.rebuild_process``).
    """
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        locked = conn.execute("SELECT pg_try_advisory_lock(%s)", (REBUILD_LOCK,)).fetchone()
        if not locked or not locked[0]:
            raise RebuildInProgress
        try:
            build = ShadowBuild(conninfo, conn, names, batch_size, processes)
            build.prepare()
            build.bulk_fold(head(conn), progress)
            build.restore_indexes()
            _swap_in(build)
            if progress:
                progress(build.position, build.position)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (REBUILD_LOCK,))
    return RebuildResult(build.names, build.events, time.perf_counter() - started)


def build_shadow(conninfo: str, names: Sequence[str] = NAMES) -> None:
    """Fold the whole log into the shadow schema and leave it there (for comparison)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        build = ShadowBuild(conninfo, conn, names, DEFAULT_BATCH)
        build.prepare()
        build.bulk_fold(head(conn))
        build.restore_indexes()


def _swap_in(build: ShadowBuild) -> None:
    """Apply what arrived during the build and swap the tables in, in one transaction.

    The swap needs every live table exclusively, while a reader may hold one
    table and wait for another: waiting on both sides would deadlock, and
    PostgreSQL would kill one of them, perhaps the reader. So the swap waits
    only briefly for each lock; when it cannot have them all, it rolls back
    (releasing what it took), lets the readers finish, and tries again.
    """
    conn = build.conn
    built, folded, faults = build.position, build.events, list(build.faults)
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            with conn.transaction():
                build.use_shadow()
                conn.execute("SET LOCAL lock_timeout = '200ms'")
                conn.execute(
                    "SELECT projection FROM projection_tracking "
                    "WHERE projection = ANY(%s) FOR UPDATE",
                    (list(build.names),),
                )
                build.fold_until(head(conn))
                _swap(conn, build.names, build.position)
                with conn.cursor() as cur:
                    new_faults = replace_faults(cur, build.names, build.faults)
            tell(build.conninfo, new_faults)
            return
        except psycopg.errors.LockNotAvailable:
            # The attempt rolled back.
            build.position, build.events, build.faults = built, folded, faults
            time.sleep(min(0.05 * attempt, 1.0))
    raise RuntimeError(
        f"could not swap the rebuilt read models in after {SWAP_ATTEMPTS} tries: "
        "the live tables stayed busy"
    )


def _swap(conn: Connection, names: tuple[str, ...], position: int) -> None:
    live = [
        sql.SQL("public.{}").format(sql.Identifier(row[0]))
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)",
            (list(names),),
        )
    ]
    if live:
        conn.execute(
            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.SQL(", ").join(live))
        )
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(RETIRED)))
    for name in names:
        table = sql.Identifier(name)
        conn.execute(
            sql.SQL("ALTER TABLE IF EXISTS public.{} SET SCHEMA {}").format(
                table, sql.Identifier(RETIRED)
            )
        )
        conn.execute(
            sql.SQL("ALTER TABLE {}.{} SET SCHEMA public").format(sql.Identifier(SHADOW), table)
        )
    conn.execute(
        "INSERT INTO public.projection_tracking (projection, notification_id) "
        "SELECT unnest(%s::text[]), %s "
        "ON CONFLICT (projection) DO UPDATE SET notification_id = EXCLUDED.notification_id",
        (list(names), position),
    )
    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(RETIRED)))
    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(SHADOW)))
