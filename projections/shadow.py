"""Building read models afresh in a shadow schema, out of readers' sight.

The bulk of the log is folded the fast way (``bulk_fold``): read ahead on
one connection, rows streamed by COPY on others, keyed rows kept in memory,
the read models shared among processes, one per core, and the tables'
secondary indexes set aside, to be built once over the loaded rows
(``restore_indexes``), which costs far less than keeping them up to date
row by row. What arrives after that is folded like a live batch
(``fold_until``), in the caller's transaction: the swap's.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg import sql

from eventlog.reading import Connection, Unreadable, last_read, read_events
from projections.bulk import SHADOW, fold_into_shadow
from projections.directory import AgentDirectory
from projections.faults import Fault, unreadable_faults
from projections.fold import LOST_DATABASE, fold_or_isolate
from projections.read_models import NAMES, projectors
from projections.rebuild_process import FoldProcess, share
from projections.schema import create_read_models

__all__ = ["PROCESSES", "SHADOW", "Progress", "ShadowBuild"]

logger = logging.getLogger(__name__)

# A process folding the log keeps most of a core busy (0.86 of one, on the
# 2-core machine of bench/rebuild.py) and PostgreSQL, storing what it sends,
# less than half of another: two processes fit on two cores (12-25% faster
# there, measured in pairs of runs), but beyond that more processes than half
# the cores only take turns (and decode the log once more each).
_CORES = os.cpu_count() or 1
PROCESSES = min(_CORES, max(2, _CORES // 2))
INDEX_BUILDERS = 2  # connections building indexes at once

Progress = Callable[[int, int], None]


class ShadowBuild:
    """Folds the log into the shadow schema's tables."""

    def __init__(
        self,
        conninfo: str,
        conn: Connection,
        names: Sequence[str],
        batch_size: int,
        processes: int = PROCESSES,
    ) -> None:
        self.conninfo = conninfo
        self.conn = conn  # autocommit; the caller's transactions, and the directory's reads
        self.names = tuple(n for n in NAMES if n in names)
        self.batch_size = batch_size
        self.processes = processes  # that fold the bulk of the log, this one included
        self.directory = AgentDirectory()
        self.projectors = projectors(self.names, self.directory)
        self.position = 0  # the last notification id folded into the shadow tables
        self.events = 0  # how many events that was (ids have gaps: rolled-back inserts)
        self.faults: list[Fault] = []  # the events the shadow read models skipped
        self._indexes: list[tuple[str, str]] = []  # (table, definition) set aside

    def prepare(self) -> None:
        """An empty shadow schema with the read models' tables, minus secondary indexes."""
        with self.conn.transaction():
            drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SHADOW))
            self.conn.execute(drop)
            self.conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SHADOW)))
            create_read_models(self.conn, self.names, schema=SHADOW)
            self._indexes = _set_aside_indexes(self.conn)
        self.position = self.events = 0
        self.faults = []

    def use_shadow(self) -> None:
        """Point unqualified read-model names at the shadow tables (the log stays in public)."""
        statement = sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(SHADOW))
        self.conn.execute(statement)

    def bulk_fold(self, until: int, progress: Progress | None = None) -> None:
        """Fold the events up to ``until``; the rows are committed when it returns.

        The fast way, when it can: a projector that raises there fails it
        whole (streamed rows cannot be taken back one event at a time). Then
        the log is folded again from the start the careful way, batch by
        batch like a live runner, so the poison is found and skipped.
        """
        try:
            self._fold_fast(until, progress)
        except LOST_DATABASE:
            raise
        except Exception:
            logger.warning(
                "the fast fold failed; folding the log again batch by batch to find the poison",
                exc_info=True,
            )
            self.prepare()
            while self.position < until:
                with self.conn.transaction():
                    self.use_shadow()
                    self._fold_batch(until)
                if progress:
                    progress(self.position, until)

    def _fold_fast(self, until: int, progress: Progress | None) -> None:
        """The heaviest share of the read models is folded here, the others by
        workers meanwhile; progress is that of the one furthest behind."""
        span = (self.position, until)
        mine, *theirs = share(self.projectors, self.processes)
        workers = [
            FoldProcess(self.conninfo, [p.name for p in group], span, self.batch_size)
            for group in theirs
        ]

        def report(position: int) -> None:
            if progress:
                progress(min([position, *(w.position for w in workers)]), until)

        unreadable: list[Unreadable] = []
        try:
            folded = fold_into_shadow(
                self.conninfo,
                self.conn,
                mine,
                self.directory,
                span,
                batch_size=self.batch_size,
                progress=report,
                unreadable=unreadable,
            )
            for worker in workers:
                while not worker.wait(timeout=0.2):
                    report(until)
        finally:
            for worker in workers:
                worker.stop()
        report(until)
        self.position = until
        self.events += folded
        self.faults += unreadable_faults(self.projectors, {}, unreadable)

    def restore_indexes(self) -> None:
        """Build the indexes ``prepare`` set aside, several at once, biggest table first."""
        if not self._indexes:
            return
        sizes: dict[str, int] = dict(
            self.conn.execute(
                "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
                (SHADOW,),
            ).fetchall()
        )
        definitions = [d for t, d in sorted(self._indexes, key=lambda i: -sizes.get(i[0], 0))]
        with ThreadPoolExecutor(INDEX_BUILDERS, thread_name_prefix="index") as builders:
            for done in [builders.submit(self._create_index, d) for d in definitions]:
                done.result()
        self._indexes = []

    def _create_index(self, definition: str) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(definition)

    def fold_until(self, until: int) -> None:
        """Fold events up to ``until`` like a live batch, in the caller's transaction."""
        while self.position < until:
            self._fold_batch(until)

    def _fold_batch(self, until: int) -> None:
        """Fold the next batch up to ``until`` like a live batch, skipping the poison."""
        unreadable: list[Unreadable] = []
        events = read_events(
            self.conn, self.position, self.batch_size, until=until, unreadable=unreadable
        )
        if not events and not unreadable:
            self.position = until
            return
        self.directory.learn(events)
        self.faults += unreadable_faults(self.projectors, {}, unreadable)
        with self.conn.cursor() as cur:
            self.faults += fold_or_isolate(cur, self.projectors, {}, events)
        self.position = last_read(events, unreadable)
        self.events += len(events)


def _set_aside_indexes(conn: Connection) -> list[tuple[str, str]]:
    """Drop the shadow tables' non-unique indexes; returns (table, definition) of each.

    Unique ones stay: the fold needs them (primary keys back its upserts and
    the look-ups of its annotations), and they are cheap to keep.
    """
    indexes = conn.execute(
        "SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = %s AND NOT x.indisunique",
        (SHADOW,),
    ).fetchall()
    for _, index, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(SHADOW, index)))
    return [(table, definition) for table, _, definition in indexes]
