"""Where a projector's rows go: the live tables in a batch's transaction, or a rebuild's.

A projector only folds events into rows; a ``Tables`` decides how the rows
reach PostgreSQL. The live runner writes each batch in the transaction that
also moves the projections' positions (``TransactionTables``); a rebuild
streams into shadow tables that nobody else sees (``projections.bulk``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import sql

from eventlog.reading import Cursor
from projections.binary_copy import copy_rows
from projections.keyed import KeyedRows


class Tables(ABC):
    """The read models' tables, as one fold writes them."""

    def __init__(self, cur: Cursor) -> None:
        self.cur = cur  # for reading in the fold's transaction (the agent directory)

    @abstractmethod
    def append(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Add ``rows`` (values in ``columns`` order) to an append-only table."""

    @abstractmethod
    def keyed(self, table: str, key: Mapping[str, str]) -> KeyedRows:
        """The rows of a keyed table (``key``: column -> type) for this fold to change."""

    @abstractmethod
    def annotate(self, table: str, column: str, values: Sequence[tuple[int, Any]]) -> None:
        """Set ``column`` of rows appended earlier, by notification id: (id, value) in log
        order, so a later value for the same row wins."""

    @abstractmethod
    def flush(self) -> None:
        """Write what the batch left in memory (its projectors have all applied it)."""


class TransactionTables(Tables):
    """The live read models, written in the caller's transaction, one batch at a time."""

    def __init__(self, cur: Cursor) -> None:
        super().__init__(cur)
        self._keyed: dict[str, KeyedRows] = {}

    def append(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        copy_rows(self.cur, table, columns, rows)

    def keyed(self, table: str, key: Mapping[str, str]) -> KeyedRows:
        rows = self._keyed.get(table)
        if rows is None:
            rows = self._keyed[table] = KeyedRows(table, key, source=self.cur)
        return rows

    def annotate(self, table: str, column: str, values: Sequence[tuple[int, Any]]) -> None:
        if values:
            statement = sql.SQL("UPDATE {t} SET {c} = %s WHERE notification_id = %s").format(
                t=sql.Identifier(table), c=sql.Identifier(column)
            )
            self.cur.executemany(statement, [(value, id_) for id_, value in values])

    def flush(self) -> None:
        for rows in self._keyed.values():
            rows.save(self.cur)
