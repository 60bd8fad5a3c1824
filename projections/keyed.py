"""The rows of a keyed read model (one row per session, agent, ...) that a fold changes."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from psycopg import sql

from eventlog.reading import Cursor


class KeyedRows:
    """The rows of a keyed table that a fold touches, held in memory.

    A live batch loads the rows its events touch (``load``), changes them
    event by event and writes them back with one upsert (``save``): thousands
    of events cost two statements. A rebuild passes no ``source``: its table
    starts empty and nothing else writes it, so every row there is has been
    made here, and the fold keeps them all until it saves them at the end.
    """

    def __init__(self, table: str, key: Mapping[str, str], source: Cursor | None) -> None:
        self.table = table
        self.key = dict(key)  # column -> PostgreSQL type, in key order
        self.source = source
        self.rows: dict[Hashable, dict[str, Any]] = {}
        # Keys changed since the last save; a rebuild saves every row anyway.
        self._dirty: set[Hashable] | None = None if source is None else set()

    def load(self, keys: Iterable[tuple[Any, ...]]) -> None:
        """Read the rows under ``keys`` that are not in memory yet."""
        if self.source is None:
            return
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
        cur = self.source
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
        if self._dirty is not None:
            self._dirty.add(key)

    def touch(self, key: tuple[Any, ...]) -> dict[str, Any] | None:
        """The row under ``key`` (None if there is none), to be changed and saved."""
        row = self.rows.get(key)
        if row is not None and self._dirty is not None:
            self._dirty.add(key)
        return row

    def save(self, cur: Cursor) -> None:
        """Upsert the changed rows (in a rebuild: every row)."""
        keys = list(self.rows) if self._dirty is None else list(self._dirty)
        if not keys:
            return
        columns = list(self.rows[keys[0]])
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
        cur.executemany(query, [[self.rows[k][c] for c in columns] for k in keys])
        if self._dirty is not None:
            self._dirty.clear()
