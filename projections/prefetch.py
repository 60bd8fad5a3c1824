"""Reading the log ahead of the fold, on a connection of its own.

While the fold works on one batch, a thread has PostgreSQL find and send
the next ones and decodes them: the server's work and ours overlap instead
of taking turns, and the decoding fills the moments the fold waits on a
COPY.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from types import TracebackType

import psycopg

from eventlog.reading import RecordedEvent, Unreadable, decode_rows, select_events

_END = object()


class LogPrefetch:
    """The events in (after, until], in order, in batches of up to ``batch_size``."""

    def __init__(
        self,
        conninfo: str,
        after: int,
        until: int,
        batch_size: int,
        *,
        unreadable: list[Unreadable] | None = None,
        depth: int = 3,
    ) -> None:
        self.conninfo = conninfo
        self.unreadable = unreadable  # filled with the events that cannot be decoded
        self.after = after
        self.until = until
        self.batch_size = batch_size
        self._batches: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._read, name="log-prefetch", daemon=True)

    def __enter__(self) -> LogPrefetch:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()
        while self._thread.is_alive():  # unblock a reader waiting for room
            with contextlib.suppress(queue.Empty):
                self._batches.get(timeout=0.05)
        self._thread.join()

    def __iter__(self) -> Iterator[list[RecordedEvent]]:
        while True:
            item = self._batches.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, list)
            yield item

    def _read(self) -> None:
        try:
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                position = self.after
                while position < self.until and not self._stopping.is_set():
                    with conn.cursor(binary=True) as cur:
                        cur.execute(*select_events(position, self.batch_size, self.until))
                        rows = cur.fetchall()
                    if not rows:
                        break
                    position = rows[-1][0]
                    self._put(decode_rows(rows, self.unreadable))
            self._put(_END)
        except Exception as error:  # handed to the fold, which raises it
            self._put(error)

    def _put(self, item: object) -> None:
        while not self._stopping.is_set():
            try:
                self._batches.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
