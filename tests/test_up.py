"""`podium up` as a person runs it: a process that serves, then stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.own_postgres import free_port


def test_up_serves_then_shuts_down_in_order(database_url: str, tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PODIUM_DATA_DIR": str(tmp_path / "data")}
    env.pop("ANTHROPIC_API_KEY", None)
    podium = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "up", "--port", str(port), "--cwd", str(tmp_path)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        first_lines = []
        while not any("podium: open" in line for line in first_lines):
            line = podium.stderr.readline()
            assert line, f"podium up exited: {''.join(first_lines)}"
            first_lines.append(line)
        assert "demo mode" in first_lines[0]
        assert f"http://127.0.0.1:{port}/" in first_lines[-1]
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        assert "<html" in httpx.get(f"{base}/").text.lower()
        session = httpx.post(f"{base}/api/sessions", json={"title": "up"}).json()["session_id"]
        agents = f"{base}/api/sessions/{session}/agents"
        assert httpx.post(agents, json={"name": "alice"}).status_code == 201
        command = {"command": "work slowly on the report"}
        assert httpx.post(f"{agents}/alice/commands", json=command).status_code == 202
        deadline = time.monotonic() + 60
        while httpx.get(agents).json()["agents"][0]["status"] != "working":
            assert time.monotonic() < deadline, "alice never started"
            time.sleep(0.2)
        podium.send_signal(signal.SIGTERM)
        assert podium.wait(timeout=90) == 0
    finally:
        podium.kill()
    assert (tmp_path / "data" / "logs" / "podium.log").read_text().count("podium is up") == 1
    with psycopg.connect(database_url) as conn:
        reasons = conn.execute(
            "SELECT payload->>'reason' FROM events WHERE event_type = 'AgentInterrupted'"
        ).fetchall()
    assert reasons == [("podium is shutting down",)]


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--port", "70000", "--port must be"),
        ("--approval-timeout", "0", "--approval-timeout must be a positive number"),
        ("--approval-timeout", "nan", "--approval-timeout must be a positive number"),
    ],
)
def test_up_refuses_a_bad_option_in_one_line(
    database_url: str, option: str, value: str, said: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "up", option, value],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and said in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_up_refuses_a_broadcast_url_it_cannot_use_in_one_line(database_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "up", "--broadcast-url", "nope://somewhere"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "podium up: error: --broadcast-url: unsupported broadcast URL 'nope://somewhere': "
        "use memory://, redis://host:port or postgres://…"
    ]
