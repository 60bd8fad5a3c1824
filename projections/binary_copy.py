"""Appending rows with binary COPY: the fastest way into PostgreSQL.

Binary COPY skips the text round trip on both sides (no formatting of
timestamps and UUIDs here, no parsing there), but PostgreSQL applies no
casts to it, so each value must be dumped as its column's exact type. The
types come from the catalog, so the read models' DDL stays their one source.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import sql

from eventlog.reading import Cursor

_types: dict[tuple[str, tuple[str, ...]], list[int]] = {}


def column_types(cur: Cursor, table: str, columns: Sequence[str]) -> list[int]:
    """The type OIDs of ``columns`` of ``table`` (as the search path finds it)."""
    wanted = (table, tuple(columns))
    known = _types.get(wanted)
    if known is None:
        cur.execute(
            "SELECT attname, atttypid::int FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (table,),
        )
        oids: dict[str, int] = dict(cur.fetchall())
        known = _types[wanted] = [oids[c] for c in columns]
    return known


def copy_statement(table: str, columns: Sequence[str]) -> sql.Composed:
    return sql.SQL("COPY {t} ({c}) FROM STDIN (FORMAT BINARY)").format(
        t=sql.Identifier(table), c=sql.SQL(", ").join(map(sql.Identifier, columns))
    )


def copy_rows(
    cur: Cursor, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Append ``rows`` (values in ``columns`` order) to ``table``."""
    if not rows:
        return
    types = column_types(cur, table, columns)
    with cur.copy(copy_statement(table, columns)) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)
