"""A share of a rebuild's read models, folded in a process of its own.

Python runs one thread at a time, so a rebuild that is to use more than one
core folds its read models in several processes: each reads and decodes the
whole log and folds its own share of the projectors into their shadow
tables (different tables, so the processes never meet). Decoding the log
again costs less than what the other core gives.

The worker is ``python -m projections.rebuild_process``. It reads its orders as one
JSON line on stdin, prints its position after each batch and ``done N`` at
the end, and exits when its stdin closes: if the rebuild dies, its workers
stop too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

import psycopg

from projections.bulk import fold_into_shadow
from projections.directory import AgentDirectory
from projections.projector import Projector
from projections.read_models import projectors


class WorkerFailed(RuntimeError):
    def __init__(self, names: Sequence[str], said: str) -> None:
        super().__init__(f"rebuilding {', '.join(names)} failed:\n{said.strip()}")


def share(projectors_: Sequence[Projector], processes: int) -> list[list[Projector]]:
    """Deal the projectors into at most ``processes`` groups of similar weight.

    Heaviest first, each to the lightest group so far; the first group is
    the heaviest (the rebuild folds it itself, and its workers start late).
    """
    groups: list[list[Projector]] = [[] for _ in range(max(1, min(processes, len(projectors_))))]
    for projector in sorted(projectors_, key=lambda p: -p.weight):
        min(groups, key=lambda g: sum(p.weight for p in g)).append(projector)
    groups.sort(key=lambda g: -sum(p.weight for p in g))
    return [g for g in groups if g]


class FoldProcess:
    """A worker folding ``names`` over the events in ``span`` (after, until]."""

    def __init__(
        self, conninfo: str, names: Sequence[str], span: tuple[int, int], batch_size: int
    ) -> None:
        self.names = tuple(names)
        self.position = span[0]  # the last notification id it folded
        self.events: int | None = None  # set when it is done
        self._said: list[str] = []  # anything else it printed: a traceback
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self._process.stdin is not None
        orders = {"conninfo": conninfo, "names": self.names, "span": span, "batch": batch_size}
        self._process.stdin.write(json.dumps(orders) + "\n")
        self._process.stdin.flush()  # and it stays open: the worker's lifeline
        self._listener = threading.Thread(target=self._listen, name="worker-progress")
        self._listener.start()

    def _listen(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            word, _, rest = line.partition(" ")
            if line.rstrip().isdigit():
                self.position = int(line)
            elif word == "done":
                self.events = int(rest)
            else:
                self._said.append(line)

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the worker has ended (raises WorkerFailed if it failed)."""
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        self._listener.join()
        if self._process.returncode != 0 or self.events is None:
            raise WorkerFailed(self.names, "".join(self._said) or "it died")
        return True

    def stop(self) -> None:
        """End the worker, done or not, and release its pipes."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._listener.join()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()


def main(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    orders: dict[str, Any] = json.loads(stdin.readline())
    threading.Thread(target=_exit_when_closed, args=(stdin,), daemon=True).start()
    after, until = orders["span"]
    directory = AgentDirectory()
    with psycopg.connect(orders["conninfo"], autocommit=True) as conn:
        events = fold_into_shadow(
            orders["conninfo"],
            conn,
            projectors(orders["names"], directory),
            directory,
            (after, until),
            batch_size=orders["batch"],
            progress=lambda position: print(position, file=stdout, flush=True),
        )
    print("done", events, file=stdout, flush=True)


def _exit_when_closed(stdin: TextIO) -> None:
    """Our stdin closes when the rebuild ends or dies: then there is nothing to do."""
    stdin.read()
    os._exit(1)


if __name__ == "__main__":
    main()
