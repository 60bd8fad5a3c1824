"""Stops the embedded PostgreSQL when every podium process using it has died.

pgserver stops the server when the last process using it exits cleanly. A
process killed with -9 never gets to: if it was the last one, the server ran
on until the next podium command. So the first podium process to start the
embedded server also starts this watchdog, a small detached process that,
every second, under pgserver's own inter-process lock (the one a starting
podium holds while it joins), looks at the processes recorded as using the
data folder; when none is alive it stops the server and exits. It exits too
when the server stops by other means. One watchdog per data folder: each
holds an exclusive lock on a file in it for its whole life, and a second one
finds it taken and leaves.

    python -m gateway.embedded_watchdog PGDATA
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from gateway.database import is_alive

POLL_SECONDS = 1.0
LOCK_FILE = ".podium-watchdog.lock"


def start_watchdog(pgdata: Path) -> None:
    """Start the data folder's watchdog, detached (it leaves at once if one runs)."""
    subprocess.Popen(
        [sys.executable, "-m", "gateway.embedded_watchdog", str(pgdata)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C or kill of the process group leaves it be
        close_fds=True,
    )


def watch(pgdata: Path) -> None:
    """Until the server stops, or nobody uses it any more and it is stopped here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from pgserver.postgres_server import PostgresServer
    from pgserver.utils import DiskList

    users = DiskList(pgdata / ".handle_pids.json")
    while _postmaster_running(pgdata):
        with PostgresServer._lock:
            live = [pid for pid in users.get() if is_alive(pid)]
            if not live:
                users.put([])
                _stop(pgdata)
                return
        time.sleep(POLL_SECONDS)


def _postmaster_running(pgdata: Path) -> bool:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return False
    return is_alive(pid)


def _stop(pgdata: Path) -> None:
    from pgserver._commands import POSTGRES_BIN_PATH

    user: Any = "pgserver" if os.geteuid() == 0 else None  # the user pgserver runs it as
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-w", "-D", str(pgdata), "stop", "-m", "fast"],
            user=user,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )


def main(argv: list[str]) -> int:
    pgdata = Path(argv[0])
    with open(pgdata / LOCK_FILE, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # this folder has its watchdog
        watch(pgdata)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
