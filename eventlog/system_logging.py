"""podium's own logging, into the event log: WARNING and above, and lifecycle
messages, become ``SystemLogged`` entries.

A lifecycle message (podium started, stopping, the summarizer far behind) is
logged at INFO with ``extra=LIFECYCLE``. A message whose entry the caller
writes itself (``Podium.write_system_log``, with more context than a log
record has) is logged with ``extra=RECORDED`` so it is not written twice.

Shipping never blocks the code that logs: records wait in a bounded queue
for a writer thread, and when the queue is full they are counted and the
next entry says how many were dropped. What the writer itself logs is never
shipped (no loop), and what is queued when shipping stops is written first,
within a bound.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

from domain.vocabulary import Level

LIFECYCLE = {"podium_lifecycle": True}
RECORDED = {"podium_recorded": True}
CAPACITY = 1_000  # records waiting to be written
FLUSH_SECONDS = 5.0  # at most this long to write what waits, when shipping stops

Write = Callable[[str, str, dict[str, str], UUID | None], None]
_STOP = None


def level_of(record: logging.LogRecord) -> str:
    """The system log's level of a log record (CRITICAL is an error)."""
    if record.levelno >= logging.ERROR:
        return Level.ERROR.value
    if record.levelno >= logging.WARNING:
        return Level.WARNING.value
    return Level.INFO.value if record.levelno >= logging.INFO else Level.DEBUG.value


def shipped(record: logging.LogRecord) -> bool:
    """Whether a record becomes a system log entry."""
    if getattr(record, "podium_recorded", False):
        return False
    return record.levelno >= logging.WARNING or bool(getattr(record, "podium_lifecycle", False))


def context_of(record: logging.LogRecord) -> dict[str, str]:
    context = {"logger": record.name}
    if record.exc_info and record.exc_info[0] is not None:
        error_type, error, _ = record.exc_info
        context["exception"] = f"{error_type.__name__}: {error}"
    return context


class SystemLogHandler(logging.Handler):
    """Ships the records that matter (``shipped``) to ``write``, from a thread."""

    def __init__(self, write: Write, capacity: int = CAPACITY) -> None:
        super().__init__(level=logging.INFO)
        self._write = write
        self._queue: queue.Queue[logging.LogRecord | None] = queue.Queue(capacity)
        self._dropped = 0
        self._thread = threading.Thread(target=self._run, name="system log", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        if threading.current_thread() is self._thread or not shipped(record):
            return
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self._dropped += 1

    def stop(self) -> None:
        """Write what waits (within FLUSH_SECONDS), then stop the writer.

        Not ``close()``: logging calls that on every handler whenever logging
        is configured again (uvicorn does, as it starts), and shipping must
        outlive that."""
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=FLUSH_SECONDS)
        self._thread.join(FLUSH_SECONDS)

    def _run(self) -> None:
        while (record := self._queue.get()) is not _STOP:
            message = record.getMessage()
            if self._dropped:
                dropped, self._dropped = self._dropped, 0
                message += f" ({dropped} earlier log messages were dropped: too many at once)"
            session = getattr(record, "session_id", None)
            try:
                self._write(
                    level_of(record),
                    message,
                    context_of(record),
                    session if isinstance(session, UUID) else None,
                )
            except Exception as error:  # logging it would come back here
                print(f"podium: could not write the system log: {error}", file=sys.stderr)


@contextlib.contextmanager
def shipping(write: Write, logger: logging.Logger | None = None) -> Iterator[SystemLogHandler]:
    """Ship ``logger``'s (the root logger's) records while the block runs."""
    target = logger or logging.getLogger()
    handler = SystemLogHandler(write)
    target.addHandler(handler)
    try:
        yield handler
    finally:
        target.removeHandler(handler)
        handler.stop()
        handler.close()


def lifecycle(logger: logging.Logger, message: str, *args: Any) -> None:
    """Log a lifecycle message at INFO, which becomes a system log entry even
    where INFO is not shown (handed to the handlers past the logger's level)."""
    record = logger.makeRecord(
        logger.name, logging.INFO, "(lifecycle)", 0, message, args, None, extra=LIFECYCLE
    )
    logger.handle(record)
