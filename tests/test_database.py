"""The embedded PostgreSQL and the audit role, with real podium processes.

The embedded server is started and stopped by `podium` commands in a data
folder of the test's own; the audit role is created by migrations of several
databases at once on a server of the test's own (tests/own_postgres.py), where
it does not exist yet.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import psycopg
import pytest

from tests.gateway_server import until
from tests.own_postgres import OwnPostgres, own_postgres

PODIUM = str(Path(sys.executable).with_name("podium"))


def podium_env(data_dir: Path) -> dict[str, str]:
    """podium's environment for the embedded server in ``data_dir``."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["PODIUM_DATA_DIR"] = str(data_dir)
    return env


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data folder for the embedded server, whatever happens to it stopped after.

    Not pytest's tmp_path: every pytest session makes /tmp/pytest-of-USER
    private again, which locks the server's system user out of it.
    """
    with tempfile.TemporaryDirectory(prefix="podium-embedded-") as folder:
        os.chmod(folder, 0o755)
        try:
            yield Path(folder)
        finally:
            for process in postgres_processes(Path(folder) / "pgdata"):
                process.kill()


def postgres_processes(pgdata: Path) -> list[psutil.Process]:
    """The postmasters running on ``pgdata`` (their command line names it)."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(pgdata) in (process.info["cmdline"] or []):
            found.append(process)
    return found


def handle_pids(pgdata: Path) -> list[int]:
    """The processes pgserver records as using the embedded server."""
    path = pgdata / ".handle_pids.json"
    return list(json.loads(path.read_text())) if path.exists() else []


def _follow(data_dir: Path) -> subprocess.Popen[bytes]:
    """`podium events --follow` on the embedded server, once it is using it."""
    follower = subprocess.Popen(
        [PODIUM, "events", "--follow"],
        env=podium_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    pgdata = data_dir / "pgdata"
    until(lambda: follower.pid in handle_pids(pgdata) and postgres_processes(pgdata))
    return follower


def _kill_9(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_the_embedded_server_stops_after_its_last_user_is_killed_with_9(data_dir: Path) -> None:
    pgdata = data_dir / "pgdata"
    _kill_9(_follow(data_dir))
    until(lambda: postgres_processes(pgdata) == [], timeout=30)  # the watchdog stopped it
    assert handle_pids(pgdata) == []


def test_a_user_killed_with_9_does_not_keep_the_server_running(data_dir: Path) -> None:
    pgdata = data_dir / "pgdata"
    survivor = _follow(data_dir)
    _kill_9(_follow(data_dir))
    time.sleep(2)  # the watchdog's rounds: the survivor still uses the server
    assert postgres_processes(pgdata), "the server stopped under a live podium"
    survivor.send_signal(signal.SIGTERM)  # a clean stop of the last one stops the server
    assert survivor.wait(timeout=60) == 0
    assert postgres_processes(pgdata) == []
    assert handle_pids(pgdata) == []


def test_audit_runs_as_the_audit_role_on_the_embedded_server(data_dir: Path) -> None:
    env = podium_env(data_dir)
    who = subprocess.run(
        [PODIUM, "audit", "--sql", "SELECT current_user, session_user", "--csv"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert who.returncode == 0, who.stderr
    assert who.stdout.splitlines()[1] == "podium_audit,podium_audit"

    witness = data_dir / "ran"
    shell = subprocess.run(
        [PODIUM, "audit", "--sql", f"COPY (SELECT 1) TO PROGRAM 'id > {witness}'"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert shell.returncode == 1
    (line,) = shell.stderr.splitlines()
    assert line.startswith("podium audit: error: refused: ")
    assert not witness.exists()
    assert postgres_processes(data_dir / "pgdata") == []


@pytest.fixture
def fresh_server() -> Iterator[OwnPostgres]:
    """A server where no podium_audit role exists yet."""
    with own_postgres() as server:
        yield server


def test_migrations_of_many_databases_at_once_create_the_role_once(
    fresh_server: OwnPostgres,
) -> None:
    urls = [fresh_server.create_database(f"podium_{n}") for n in range(4)]
    migrations = [
        subprocess.Popen(
            [PODIUM, "--database-url", url, "migrate"], stderr=subprocess.PIPE, text=True
        )
        for url in urls
    ]
    for migration in migrations:
        _, errors = migration.communicate()
        assert migration.returncode == 0, errors
    for url in urls:
        named = subprocess.run(
            [PODIUM, "--database-url", url, "audit", "failed-turns"],
            capture_output=True,
            text=True,
        )
        assert named.returncode == 0, named.stderr
    with psycopg.connect(fresh_server.url()) as conn:
        role = conn.execute(
            "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, "
            "rolbypassrls, rolconfig FROM pg_roles WHERE rolname = 'podium_audit'"
        ).fetchall()
    assert role == [(True, False, False, False, False, False, ["default_transaction_read_only=on"])]
