"""A rebuild's shadow tables, filled as fast as PostgreSQL takes rows.

Nothing but the rebuild sees the shadow schema until the swap, so the rows
need not commit batch by batch with a position: appended rows stream into
one COPY per table, each on a connection of its own, and PostgreSQL stores
them while the next events are folded; keyed rows stay in memory (no load,
no upsert per batch) and, like annotations, are written once at the end.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

from eventlog.reading import Connection, Cursor, Unreadable
from projections.binary_copy import column_types, copy_statement
from projections.directory import AgentDirectory
from projections.fold import apply_batch
from projections.keyed import KeyedRows
from projections.prefetch import LogPrefetch
from projections.projector import Projector
from projections.tables import Tables, TransactionTables

SHADOW = "podium_rebuild"  # the schema a rebuild builds its tables in

# Each stream commits after this many rows, so no transaction of the build
# runs for long (a long one would hold back vacuum for the whole database).
COMMIT_ROWS = 250_000


def connect_to_schema(conninfo: str, schema: str) -> Connection:
    """A connection whose unqualified table names are ``schema``'s (the log stays in public)."""
    conn = psycopg.connect(conninfo, autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema)))
    conn.autocommit = False
    return conn


class CopyStream:
    """One table's rows, flowing into a COPY that stays open across batches."""

    def __init__(self, conninfo: str, schema: str, table: str, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.conn = connect_to_schema(conninfo, schema)
        self._copy: contextlib.ExitStack | None = None
        self._write_row: Any = None
        self._uncommitted = 0

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if self._copy is None:
            self._open()
        write_row = self._write_row
        for row in rows:
            write_row(row)
        self._uncommitted += len(rows)
        if self._uncommitted >= COMMIT_ROWS:
            self.commit()

    def _open(self) -> None:
        cur = self.conn.cursor()
        types = column_types(cur, self.table, self.columns)
        self._copy = contextlib.ExitStack()
        copy = self._copy.enter_context(cur.copy(copy_statement(self.table, self.columns)))
        copy.set_types(types)
        self._write_row = copy.write_row

    def commit(self) -> None:
        """End the COPY (PostgreSQL catches up with what was sent) and commit it."""
        if self._copy is not None:
            self._copy.close()
            self._copy = None
        self.conn.commit()
        self._uncommitted = 0

    def close(self) -> None:
        """Drop the connection; what was not committed is rolled back."""
        self.conn.close()


class BulkTables(Tables):
    """The shadow tables of a rebuild: COPY streams, and keyed rows held until ``finish``."""

    def __init__(self, conninfo: str, schema: str, cur: Cursor) -> None:
        super().__init__(cur)
        self.conninfo = conninfo
        self.schema = schema
        self._streams: dict[str, CopyStream] = {}
        self._keyed: dict[str, KeyedRows] = {}
        self._annotations: dict[tuple[str, str], dict[int, Any]] = {}

    def append(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        stream = self._streams.get(table)
        if stream is None:
            stream = self._streams[table] = CopyStream(self.conninfo, self.schema, table, columns)
        stream.write(rows)

    def keyed(self, table: str, key: Mapping[str, str]) -> KeyedRows:
        rows = self._keyed.get(table)
        if rows is None:
            rows = self._keyed[table] = KeyedRows(table, key, source=None)
        return rows

    def annotate(self, table: str, column: str, values: Sequence[tuple[int, Any]]) -> None:
        # Kept until the end: the rows are in the COPY streams, maybe not stored yet.
        self._annotations.setdefault((table, column), {}).update(values)

    def flush(self) -> None:
        pass  # rows stream as they come; the rest waits for finish()

    def finish(self, conn: Connection) -> None:
        """Commit the streams, then write the keyed rows and apply the annotations."""
        for stream in self._streams.values():
            stream.commit()
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(
                sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(self.schema))
            )
            tables = TransactionTables(cur)
            for rows in self._keyed.values():
                rows.save(cur)
            for (table, column), values in self._annotations.items():
                tables.annotate(table, column, list(values.items()))

    def __enter__(self) -> BulkTables:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for stream in self._streams.values():
            stream.close()


def fold_into_shadow(
    conninfo: str,
    conn: Connection,
    projectors: Sequence[Projector],
    directory: AgentDirectory,
    span: tuple[int, int],
    *,
    batch_size: int,
    progress: Callable[[int], None] | None = None,
    unreadable: list[Unreadable] | None = None,
) -> int:
    """Fold the events with ids in ``span`` (after, until] into the projectors' shadow
    tables, committed when it returns; returns how many events there were.

    ``conn`` (autocommit) serves the directory's look-ups and the final writes.
    Events that cannot be decoded are left out (and added to ``unreadable``).
    A projector that raises fails the fold: rows streamed into a COPY cannot
    be taken back one event at a time (see ``ShadowBuild.bulk_fold``).
    """
    after, until = span
    folded = 0
    with (
        paused_gc(),
        BulkTables(conninfo, SHADOW, conn.cursor()) as tables,
        LogPrefetch(conninfo, after, until, batch_size, unreadable=unreadable) as log,
    ):
        for events in log:
            directory.learn(events)
            apply_batch(projectors, {}, events, tables)
            folded += len(events)
            if progress:
                progress(events[-1].notification_id)
        tables.finish(conn)
    return folded


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection meanwhile.

    A fold makes millions of objects that live for one batch and form no
    cycles, and the collections would walk them: several percent of its time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
