"""What the benchmarks share: a scratch database, server facts, percentiles, the JSON line.

Every benchmark works in a database of its own, created for the run on the
selected server and dropped at the end, so it never touches anyone's data.
The server is ``--database-url`` (default ``$DATABASE_URL``) or, without one,
an embedded PostgreSQL in a temporary data folder that is deleted afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
from _machine import python_loop_seconds
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from eventlog.postgres import EVENTS_TABLE
from gateway.database import open_database
from projections.schema import migrate


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="PostgreSQL server to benchmark on; the run creates and drops a database of "
        "its own there (default: $DATABASE_URL; without one, an embedded server in a "
        "temporary folder)",
    )


@contextlib.contextmanager
def server(database_url: str | None) -> Iterator[str]:
    """A connection string to a server where the benchmark may create a database."""
    if database_url:
        with open_database(database_url) as conninfo:
            yield conninfo
        return
    with tempfile.TemporaryDirectory(prefix="podium-bench-pg-") as data_dir:
        if os.geteuid() == 0:
            os.chmod(data_dir, 0o755)  # the embedded server runs as its own user under root
        with open_database(None, Path(data_dir)) as conninfo:
            yield conninfo


@contextlib.contextmanager
def scratch_database(database_url: str | None) -> Iterator[str]:
    """A fresh, migrated database for one run, dropped when the run ends."""
    with server(database_url) as admin:
        name = f"podium_bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            conninfo = make_conninfo(admin, dbname=name)
            migrate(conninfo)
            yield conninfo
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@contextlib.contextmanager
def scratch_system(bench: str, database_url: str | None) -> Iterator[tuple[str, Path]]:
    """A scratch database and a temporary folder for podium's files (its data
    and working directories), both gone when the run ends."""
    with tempfile.TemporaryDirectory(prefix=f"podium-bench-{bench}-") as tmp:
        os.chmod(tmp, 0o755)  # the embedded server and the agents run as other users
        with scratch_database(database_url) as conninfo:
            yield conninfo, Path(tmp)


def describe_server(conninfo: str, embedded: bool) -> str:
    """One line on where the run happens and how durable commits are."""
    params = conninfo_to_dict(conninfo)
    with psycopg.connect(conninfo) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        settings = {
            name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            for name in ("synchronous_commit", "fsync", "wal_sync_method", "shared_buffers")
        }
    where = (
        "embedded PostgreSQL (temporary data dir)"
        if embedded
        else (f"{params.get('host', 'local socket')}:{params.get('port', 5432)}")
    )
    shown = ", ".join(f"{k}={v[0] if v else '?'}" for k, v in settings.items())
    return (
        f"server: {where}, PostgreSQL {version[0] if version else '?'}; "
        f"database {params.get('dbname')} (scratch, dropped at the end); {shown}"
    )


def settle(conninfo: str) -> None:
    """VACUUM ANALYZE the event store, as autovacuum would have by the time a log
    this size had been written: the planner then knows the table's size."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {EVENTS_TABLE}")


def setting(conninfo: str, name: str) -> str:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
    return str(row[0]) if row else "?"


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``values``."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def rounded(value: float, digits: int = 3) -> float:
    return round(value, digits) if math.isfinite(value) else value


def print_result(result: dict[str, Any], *, compact: bool = False) -> None:
    """The benchmark's last lines: how fast the machine is, then one JSON object for
    machines (``compact``: no spaces). Figures from shared machines differ from
    session to session; the loop time, printed with them, says how fast this one was."""
    loop_s = python_loop_seconds()
    print(f"machine:  a 10M-step Python loop takes {loop_s:.2f} s")
    result = {**result, "loop_10m_s": rounded(loop_s, 2)}
    print(json.dumps(result, separators=(",", ":") if compact else (", ", ": ")), flush=True)
