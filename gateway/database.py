"""Which PostgreSQL podium runs on: the user's server, or its own embedded one.

``DATABASE_URL`` (or ``--database-url``) selects a server. Without one,
podium starts PostgreSQL from the ``pgserver`` wheel in a data folder and
stops it when the last podium process using that folder exits, or, when that
one was killed (-9), a second later (gateway/embedded_watchdog.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]  # pgserver's dependency
import psycopg
from psycopg import sql

EMBEDDED_DATABASE = "podium"


class DatabaseUnavailable(Exception):
    """podium could not reach or start its database; the message says why."""


def default_data_dir() -> Path:
    """The user's data folder for podium (XDG on Linux, Application Support on macOS)."""
    if env := os.environ.get("PODIUM_DATA_DIR"):
        return Path(env).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "podium"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "podium"
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "podium"


def check_connection(conninfo: str, timeout: float = 5.0) -> None:
    """Connect once, turning every failure into one line a person can act on."""
    try:
        with psycopg.connect(conninfo, connect_timeout=max(1, int(timeout))):
            pass
    except psycopg.ProgrammingError as error:
        raise DatabaseUnavailable(f"invalid database URL: {error}") from None
    except psycopg.OperationalError as error:
        reason = " ".join(str(error).split()) or "connection refused"
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {reason}") from None


@contextlib.contextmanager
def open_database(database_url: str | None, data_dir: Path | None = None) -> Iterator[str]:
    """Yield a connection string for the selected database, starting it if embedded."""
    if database_url:
        if (
            not database_url.startswith(("postgresql://", "postgres://"))
            and "=" not in database_url
        ):
            raise DatabaseUnavailable(
                f"invalid database URL {database_url!r}: expected postgresql://user@host:port/dbname"
            )
        check_connection(database_url)
        yield database_url
        return
    with embedded_server(data_dir or default_data_dir()) as conninfo:
        yield conninfo


@contextlib.contextmanager
def embedded_server(data_dir: Path) -> Iterator[str]:
    """Run PostgreSQL from the pgserver wheel in ``data_dir/pgdata``."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver copes.
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError:  # pragma: no cover - it is a dependency
        raise DatabaseUnavailable(
            "no DATABASE_URL and the embedded PostgreSQL (pgserver) is not installed"
        ) from None
    # pgserver narrates every step at INFO; podium's own output is enough.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(data_dir / "pgdata", cleanup_mode="stop")  # type: ignore[attr-defined]
        forget_dead_users(server)
        if os.name == "posix":
            from gateway.embedded_watchdog import start_watchdog

            start_watchdog(server.pgdata)
    except Exception as error:
        raise DatabaseUnavailable(
            f"cannot start the embedded PostgreSQL in {data_dir}: {error}"
        ) from None
    try:
        admin = server.get_uri()
        _create_database(admin, EMBEDDED_DATABASE)
        yield server.get_uri(EMBEDDED_DATABASE)
    finally:
        server.cleanup()


def _create_database(admin_conninfo: str, name: str) -> None:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def forget_dead_users(server: Any) -> None:
    """Make pgserver count only live processes as using ``server``.

    pgserver records each process that uses a data folder in
    ``pgdata/.handle_pids.json`` and stops the server when the last one
    leaves. A process killed with -9 never leaves: its pid stayed in the list
    and the server was never stopped again. Here the list forgets dead pids
    whenever pgserver reads it, which it does under its own inter-process
    lock (when a process joins and when one leaves), and the dead are dropped
    from the file now too.
    """
    from pgserver.utils import DiskList

    class LiveProcesses(DiskList):
        def get(self) -> list[int]:
            return [pid for pid in super().get() if is_alive(pid)]

    live = LiveProcesses(server.global_process_id_list.path)
    server.global_process_id_list = live
    with server._lock:
        live.put(live.get())


def is_alive(pid: int) -> bool:
    """True if ``pid`` is a running process (a zombie has died, only unreaped)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # someone else's process: alive, whoever it is
        return True
