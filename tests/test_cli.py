"""The `podium` CLI as a user runs it: a real process, a real database."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from eventlog.postgres import open_podium

PODIUM = [sys.executable, "-m", "gateway.cli"]


def podium(*args: str, database_url: str | None = None, timeout: float = 120, **env: str):
    environ = {**os.environ, **env}
    environ.pop("DATABASE_URL", None)
    if database_url:
        environ["DATABASE_URL"] = database_url
    return subprocess.run(
        [*PODIUM, *args], env=environ, capture_output=True, text=True, timeout=timeout
    )


def test_migrate_is_idempotent_on_an_empty_database(empty_database_url):
    for _ in range(3):
        done = podium("migrate", database_url=empty_database_url)
        assert done.returncode == 0, done.stderr
    with psycopg.connect(empty_database_url) as conn:
        tables = {
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    assert {
        "podium_events",
        "projection_tracking",
        "agents",
        "sessions",
        "costs",
        "chat",
        "agent_logs",
        "system_logs",
        "file_changes",
    } <= tables


def test_concurrent_migrations_do_not_collide(empty_database_url):
    env = {**os.environ, "DATABASE_URL": empty_database_url}
    procs = [
        subprocess.Popen([*PODIUM, "migrate"], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://postgres@127.0.0.1:1/podium", "cannot connect to PostgreSQL"),
        ("not a url", "invalid database URL"),
        ("postgresql://postgres@127.0.0.1:5432/db?sslmode=bogus", "invalid sslmode value"),
        ("postgresql://postgres@no-such-host.invalid/podium", "cannot connect to PostgreSQL"),
    ],
)
def test_a_bad_database_url_is_one_clear_line(url, message):
    done = podium("migrate", database_url=url, timeout=60)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_embedded_database_starts_and_stops(tmp_path: Path):
    data_dir = tmp_path / "data"
    os.chmod(tmp_path, 0o755)
    done = podium("--data-dir", str(data_dir), "migrate")
    assert done.returncode == 0, done.stderr
    assert (data_dir / "pgdata" / "PG_VERSION").exists()
    assert not (data_dir / "pgdata" / "postmaster.pid").exists(), "the server was left running"
    again = podium("events", PODIUM_DATA_DIR=str(data_dir))
    assert again.returncode == 0, again.stderr


def _write(database_url: str) -> None:
    app = open_podium(database_url)
    session = app.start_session("cli", "/tmp")
    app.send_user_message(session.id, "hello there")
    app.create_agent(session.id, "alice")
    app.command_agent(session.id, "alice", "write a poem")
    other = app.start_session("other", "/tmp")
    app.create_agent(other.id, "bob")
    app.close()


def test_events_prints_and_filters_the_log(database_url):
    _write(database_url)
    everything = podium("events", database_url=database_url)
    assert everything.returncode == 0, everything.stderr
    lines = everything.stdout.splitlines()
    assert len(lines) == 6
    assert "UserMessageSent" in lines[1] and "hello there" in lines[1]
    alice = podium("events", "--agent", "ALICE", database_url=database_url).stdout.splitlines()
    assert [line.split()[4] for line in alice] == ["AgentCreated", "AgentCommanded"]
    with psycopg.connect(database_url) as conn:
        (session_id,) = conn.execute(
            "SELECT stream_id FROM events WHERE event_type = 'SessionStarted' "
            "AND payload->>'title' = 'other'"
        ).fetchone()
    other = podium("events", "--session", str(session_id), database_url=database_url)
    assert [line.split()[4] for line in other.stdout.splitlines()] == [
        "SessionStarted",
        "AgentCreated",
    ]
    bad = podium("events", "--session", "nope", database_url=database_url)
    assert bad.returncode == 2 and "expects a session id" in bad.stderr


def test_events_follow_prints_new_events_as_they_happen(database_url):
    env = {**os.environ, "DATABASE_URL": database_url}
    follower = subprocess.Popen(
        [*PODIUM, "events", "--follow"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(follower.stdout), daemon=True)
    reader.start()
    try:
        time.sleep(2)  # let it start and reach the (empty) head
        _write(database_url)
        deadline = time.monotonic() + 20
        while len(seen) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [line.split()[4] for line in seen] == [
            "SessionStarted",
            "UserMessageSent",
            "AgentCreated",
            "AgentCommanded",
            "SessionStarted",
            "AgentCreated",
        ]
    finally:
        follower.terminate()
        follower.wait(timeout=20)
    assert follower.returncode == 0  # SIGTERM is a clean stop


def test_rebuild_usage_errors(database_url):
    both = podium("rebuild", "agents", "--all", database_url=database_url)
    assert both.returncode == 2 and "not both" in both.stderr
    unknown = podium("rebuild", "agentz", database_url=database_url)
    assert unknown.returncode == 2 and "unknown read model agentz" in unknown.stderr
    neither = podium("rebuild", database_url=database_url)
    assert neither.returncode == 2 and "--all" in neither.stderr


@pytest.mark.parametrize("command", ["up", "chat"])
@pytest.mark.parametrize("host", ["bad host", "http://example.com", "a..b", ""])
def test_an_allowed_domain_that_is_no_host_is_a_usage_error(command, host):
    done = podium(command, "--allow-domain", host, timeout=60)
    assert done.returncode == 2 and "--allow-domain expects a host" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["up", "chat"])
def test_permissions_other_than_rules_or_allow_all_are_refused_in_one_line(command):
    done = podium(command, "--permissions", "nonsense", timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"podium {command}: error: --permissions is rules or allow-all, not 'nonsense'\n"
    )
