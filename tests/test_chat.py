"""`podium chat`: the whole system from a terminal, as a person would use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_chat_runs_the_quick_start_from_the_terminal(database_url: str, tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    work = tmp_path / "work"
    env = {**os.environ, "DATABASE_URL": database_url, "PODIUM_DATA_DIR": str(tmp_path / "data")}
    env.pop("ANTHROPIC_API_KEY", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "chat",
            "--cwd",
            str(work),
            "Create an agent called alice for Python development",
            "Tell alice to create a simple hello world app",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "demo mode" in done.stderr
    out = done.stdout
    assert "SessionStarted" in out and "AgentCreated" in out and "FileChanged" in out
    assert out.rstrip().splitlines()[-1].split()[4] == "TurnCompleted"  # waited for alice
    assert (work / "hello.py").exists()
    session = out.splitlines()[0].split()[1]

    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "chat",
            "--cwd",
            str(work),
            "--session",
            session,
            "list agents",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert "alice: idle" in again.stdout


def test_chat_refuses_an_unknown_session(database_url: str, tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    env = {**os.environ, "DATABASE_URL": database_url, "PODIUM_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "chat",
            "--cwd",
            str(tmp_path),
            "--session",
            "00000000-0000-0000-0000-000000000000",
            "hello",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 1
    assert "no session with id 00000000-0000-0000-0000-000000000000" in done.stderr
    assert "Traceback" not in done.stderr
