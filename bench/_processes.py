"""The processes a soak breaks on purpose: a PostgreSQL of its own, and `podium up`.

Both run in a temporary folder, on free ports, as real processes: the
PostgreSQL from pgserver's binaries (restarted with ``pg_ctl restart -m
fast`` or ``-m immediate``), and podium as ``podium up`` (killed with
SIGKILL and started again on the same port).
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from pgserver._commands import POSTGRES_BIN_PATH

PODIUM = Path(sys.executable).with_name("podium")
SERVER_USER = "pgserver"  # pgserver's own user for running PostgreSQL under root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ScratchPostgres:
    """A PostgreSQL server in ``folder``, started from pgserver's binaries."""

    def __init__(self, folder: Path) -> None:
        self.data = folder / "pgdata"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._user = SERVER_USER if os.geteuid() == 0 else None

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / tool), "-D", str(self.data), *args],
            check=True,
            # Not pipes: the postmaster pg_ctl starts keeps them open, so reading
            # them to the end would wait as long as the server runs.
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=self._user,
            cwd="/",
            timeout=120,
        )

    def start(self) -> None:
        self.data.mkdir(parents=True)
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.data, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-U", "postgres", "--auth=trust", "--no-sync")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        self._run("pg_ctl", "-o", options, "-l", str(self.data / "log"), "-w", "start")

    def restart(self, mode: str) -> None:
        """``pg_ctl restart -m fast|immediate``: every connection is cut."""
        self._run("pg_ctl", "-m", mode, "-w", "restart")

    def stop(self) -> None:
        self._run("pg_ctl", "-m", "fast", "-w", "stop")


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
