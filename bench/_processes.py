"""The processes a soak breaks on purpose: a PostgreSQL of its own, and `podium up`.

Both run in a temporary folder, on free ports, as real processes: the
PostgreSQL is the one tests restart (tests/own_postgres.py: pgserver's
binaries, stopped ``-m fast`` or ``-m immediate`` and started again), and
podium runs as ``podium up`` (killed with SIGKILL and started again on the
same port).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

# The repository root, for tests.own_postgres (benches run as scripts from bench/).
sys.path.append(str(Path(__file__).resolve().parent.parent))
from tests.own_postgres import OwnPostgres, ShutdownMode, free_port

__all__ = ["OwnPostgres", "PodiumProcess", "ShutdownMode"]

PODIUM = Path(sys.executable).with_name("podium")


class PodiumProcess:
    """`podium up` as a subprocess on a fixed port, with its output in a log file."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        work = self.folder / "work"
        work.mkdir(exist_ok=True)
        with (self.folder / f"podium-{self.starts}.out").open("wb") as out:
            self.process = subprocess.Popen(
                [str(PODIUM), "up", "--port", str(self.port), "--cwd", str(work)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
            )

    def kill(self) -> None:
        """SIGKILL: nothing gets to shut down in order."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM and wait: the orderly shutdown."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"podium up exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError("podium did not answer /healthz")
