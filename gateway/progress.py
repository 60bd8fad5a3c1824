"""A progress bar for long work on a terminal: done/total, rate, time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws one line on a terminal; prints a line now and then elsewhere (logs, CI)."""

    def __init__(self, label: str, unit: str = "events", file: TextIO = sys.stderr) -> None:
        self.label = label
        self.unit = unit
        self.file = file
        self.started = time.perf_counter()
        self._last_draw = 0.0
        self._interactive = file.isatty()
        self._finished = False

    def update(self, done: int, total: int) -> None:
        if self._finished:
            return
        now = time.perf_counter()
        finished = self._finished = done >= total
        interval = 0.1 if self._interactive else 5.0
        if not finished and now - self._last_draw < interval:
            return
        self._last_draw = now
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        fraction = done / total if total else 1.0
        filled = int(fraction * 30)
        bar = "#" * filled + "." * (30 - filled)
        left = f", {max(total - done, 0) / rate:.0f}s left" if rate and not finished else ""
        line = (
            f"{self.label} [{bar}] {done:,}/{total:,} {self.unit} "
            f"({fraction:.0%}, {rate:,.0f} {self.unit}/s{left})"
        )
        if self._interactive:
            self.file.write("\r" + line + ("\n" if finished else ""))
        else:
            self.file.write(line + "\n")
        self.file.flush()
