"""What a projector is, and the two ways podium's projectors write rows.

A projector folds a batch of events into its read model inside the caller's
transaction; the runner commits the batch together with the projector's new
position in the log. Projectors write unqualified table names, so the same
code fills the live tables or, with another ``search_path``, a rebuild's
shadow tables.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from psycopg import sql

import sql as sql_files
from projections.directory import AgentDirectory
from projections.log import Connection, Cursor, RecordedEvent

__all__ = ["Connection", "Cursor", "KeyedRows", "Projector", "copy_rows", "usd"]


class Projector(ABC):
    """Builds one read model (a table of the same name) from the log."""

    name: ClassVar[str]

    def __init__(self, directory: AgentDirectory) -> None:
        self.directory = directory

    def ddl(self) -> str:
        return sql_files.read("read_models", f"{self.name}.sql")

    @abstractmethod
    def apply(self, events: Sequence[RecordedEvent], cur: Cursor) -> None:
        """Fold ``events`` (in log order) into the read model."""


class KeyedRows:
    """The rows of a keyed table that one batch touches.

    Loaded once, changed in memory event by event, written back with one
    upsert: a batch of thousands of events costs two statements.
    """

    def __init__(self, table: str, key: dict[str, str]) -> None:
        self.table = table
        self.key = key  # column -> PostgreSQL type, in key order
        self.rows: dict[Hashable, dict[str, Any]] = {}
        self._dirty: set[Hashable] = set()

    def load(self, cur: Cursor, keys: Iterable[tuple[Any, ...]]) -> None:
        wanted = [k for k in set(keys) if k not in self.rows]
        if not wanted:
            return
        columns = list(self.key)
        arrays = sql.SQL(", ").join(
            sql.SQL("%s::{}[]").format(sql.SQL(self.key[c])) for c in columns
        )
        query = sql.SQL("SELECT * FROM {t} WHERE ({k}) IN (SELECT * FROM unnest({a}))").format(
            t=sql.Identifier(self.table),
            k=sql.SQL(", ").join(map(sql.Identifier, columns)),
            a=arrays,
        )
        cur.execute(query, [[k[i] for k in wanted] for i in range(len(columns))])
        assert cur.description is not None
        names = [d.name for d in cur.description]
        for values in cur.fetchall():
            row = dict(zip(names, values, strict=True))
            self.rows[tuple(row[c] for c in columns)] = row

    def get(self, key: tuple[Any, ...]) -> dict[str, Any] | None:
        return self.rows.get(key)

    def put(self, key: tuple[Any, ...], row: dict[str, Any]) -> None:
        self.rows[key] = row
        self._dirty.add(key)

    def update(self, key: tuple[Any, ...], change: Callable[[dict[str, Any]], None]) -> None:
        """Apply ``change`` to the row under ``key``, if the row exists."""
        row = self.rows.get(key)
        if row is not None:
            change(row)
            self._dirty.add(key)

    def save(self, cur: Cursor) -> None:
        if not self._dirty:
            return
        first = self.rows[next(iter(self._dirty))]
        columns = list(first)
        others = [c for c in columns if c not in self.key]
        query = sql.SQL(
            "INSERT INTO {t} ({cols}) VALUES ({vals}) ON CONFLICT ({key}) DO UPDATE SET {sets}"
        ).format(
            t=sql.Identifier(self.table),
            cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
            vals=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            key=sql.SQL(", ").join(map(sql.Identifier, self.key)),
            sets=sql.SQL(", ").join(
                sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in others
            ),
        )
        cur.executemany(query, [[self.rows[k][c] for c in columns] for k in self._dirty])
        self._dirty.clear()


def copy_rows(
    cur: Cursor, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Append rows with COPY: the fastest way into PostgreSQL."""
    if not rows:
        return
    statement = sql.SQL("COPY {t} ({c}) FROM STDIN").format(
        t=sql.Identifier(table), c=sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def usd(value: float) -> Decimal:
    """A logged cost as an exact decimal, so sums over the log are exact."""
    return Decimal(repr(value))
