"""Group commit: the pending events of many writers saved in one transaction.

Every append to the store takes the events table's write lock and waits for
its commit to reach disk. Done one caller at a time, concurrent agents would
queue behind each other's fsync. Instead, callers hand their stored events
to one committer thread, which takes everything that has queued up while the
previous commit was in flight and inserts it in a single transaction. Each
caller still waits for its own events to be durable and gets its own
notification ids back; a caller whose events conflict (a stale aggregate
version) gets the error alone, because a failed group is retried caller by
caller.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    Notification,
    StoredEvent,
    Subscription,
)

_STOP = object()


class GroupCommitRecorder(ApplicationRecorder):
    """An application recorder whose inserts are committed in groups.

    Reads go straight to the wrapped recorder.
    """

    def __init__(self, recorder: ApplicationRecorder, max_group_events: int = 10_000) -> None:
        self.recorder = recorder
        self.max_group_events = max_group_events
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        if not stored_events:
            return []
        if self._closed:
            raise RuntimeError("the event store is closed")
        future: Future[Sequence[int]] = Future()
        self._queue.put((list(stored_events), future))
        return future.result()

    def close(self) -> None:
        """Commit what is queued, then stop the committer thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            group = [item]
            size = len(item[0])
            stopping = False
            while size < self.max_group_events:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                group.append(item)
                size += len(item[0])
            self._commit(group)
            if stopping:
                return

    def _commit(self, group: list[tuple[list[StoredEvent], Future[Sequence[int]]]]) -> None:
        try:
            ids = self.recorder.insert_events([e for events, _ in group for e in events])
        except Exception as error:
            if len(group) == 1:
                group[0][1].set_exception(error)
            else:
                for member in group:
                    self._commit([member])
            return
        assert ids is not None
        start = 0
        for events, future in group:
            future.set_result(ids[start : start + len(events)])
            start += len(events)

    # Reads are not grouped.

    def select_events(self, originator_id: Any, **kwargs: Any) -> Sequence[StoredEvent]:
        return self.recorder.select_events(originator_id, **kwargs)

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        return self.recorder.select_notifications(
            start, limit, stop, topics, inclusive_of_start=inclusive_of_start
        )

    def max_notification_id(self) -> int | None:
        return self.recorder.max_notification_id()

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return self.recorder.subscribe(gt, topics)
