"""What every `podium` command shares: the database it works on, and stopping cleanly."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from gateway.database import open_database
from projections.schema import migrate


class CommandFailed(Exception):
    """The command could not do what was asked (exit 1); the message says why."""


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """The selected database, migrated; the embedded one stops when we are done."""
    data_dir = Path(args.data_dir) if args.data_dir else None
    with open_database(args.database_url, data_dir) as conninfo:
        migrate(conninfo)
        yield conninfo


def stop_on_sigterm(stop: Callable[[], None]) -> None:
    """Treat SIGTERM like Ctrl-C: finish the current step, then exit cleanly."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop())
