"""Printing a query result: an aligned table for people, JSON or CSV for programs."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal, TextIO

import msgspec

from gateway.audit import QueryResult

Format = Literal["table", "json", "csv"]

CELL_WIDTH = 60  # a table cell longer than this is cut, ending in '…'

# Values msgspec has no JSON form for (ranges, network addresses...) print as text.
_json = msgspec.json.Encoder(enc_hook=str, decimal_format="number")
_ESCAPES = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})


def print_result(result: QueryResult, fmt: Format, file: TextIO) -> None:
    """Write the result to ``file`` in the chosen format."""
    if fmt == "table":
        file.write(format_table(result.columns, result.rows) + "\n")
    elif fmt == "json":
        file.write(format_json(result.columns, result.rows) + "\n")
    elif fmt == "csv":
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([text_of(value) for value in row] for row in result.rows)
    else:
        raise ValueError(f"unknown output format {fmt!r}: use table, json or csv")


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns aligned under a header and a separator, with a row count below.

    Cells are one line each (newlines and tabs shown escaped) and cut at
    CELL_WIDTH; numeric columns are right-aligned.
    """
    cells = [[_table_cell(value) for value in row] for row in rows]
    widths = [
        max([len(name), *(len(row[index]) for row in cells)]) for index, name in enumerate(columns)
    ]
    right = [_is_numeric_column([row[index] for row in rows]) for index in range(len(columns))]

    def line(texts: Sequence[str]) -> str:
        padded = (
            text.rjust(width) if align_right else text.ljust(width)
            for text, width, align_right in zip(texts, widths, right, strict=True)
        )
        return "  ".join(padded).rstrip()

    lines = [line(columns), line(["-" * width for width in widths])] if columns else []
    lines.extend(line(row) for row in cells)
    lines.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return "\n".join(lines)


def format_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """One JSON array of objects, one object per line; numerics stay numbers."""
    keys = _unique(columns)
    objects = [_json.encode(dict(zip(keys, row, strict=True))).decode() for row in rows]
    if not objects:
        return "[]"
    return "[\n" + ",\n".join(objects) + "\n]"


def text_of(value: Any) -> str:
    """A value as plain text: NULL is empty, JSON is JSON, booleans are true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return _json.encode(value).decode()
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    return str(value)


def _table_cell(value: Any) -> str:
    text = text_of(value).translate(_ESCAPES)
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def _is_numeric_column(values: Sequence[Any]) -> bool:
    present = [value for value in values if value is not None]
    return bool(present) and all(
        isinstance(value, int | float | Decimal) and not isinstance(value, bool)
        for value in present
    )


def _unique(names: Sequence[str]) -> list[str]:
    """Column names as distinct JSON keys: a repeated name gets _2, _3..."""
    keys: list[str] = []
    for name in names:
        key, count = name, 1
        while key in keys:
            count += 1
            key = f"{name}_{count}"
        keys.append(key)
    return keys
