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
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
    Subscription,
)

_STOP = object()


class RecorderClosedError(RuntimeError):
    """Raised to a caller that inserts after the recorder was closed."""

    def __init__(self) -> None:
        super().__init__("the event store is closed: no more events can be saved")


class Pending:
    """One caller's events, waiting for the committer's answer: their ids, or an error.

    A one-shot latch on a plain lock, not a concurrent.futures.Future: a
    Future builds a Condition per call and another lock per waiter, a cost
    every save pays on the writers' side of the GIL.
    """

    __slots__ = ("_answered", "_error", "_ids", "_latch", "events")

    def __init__(self, events: list[StoredEvent]) -> None:
        self.events = events
        self._ids: Sequence[int] = ()
        self._error: BaseException | None = None
        self._answered = False
        self._latch = threading.Lock()
        self._latch.acquire()  # released by the committer's answer

    @property
    def answered(self) -> bool:
        return self._answered

    def resolve(self, ids: Sequence[int]) -> None:
        self._ids = ids
        self._answer()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._answer()

    def wait(self) -> Sequence[int]:
        """Block until answered; the ids, or raise the error."""
        with self._latch:
            pass
        if self._error is not None:
            raise self._error
        return self._ids

    def _answer(self) -> None:
        # Only the committer thread answers, and only once per caller.
        assert not self._answered
        self._answered = True
        self._latch.release()


class GroupCommitRecorder(ApplicationRecorder):
    """An application recorder whose inserts are committed in groups.

    Reads go straight to the wrapped recorder.
    """

    def __init__(self, recorder: ApplicationRecorder, max_group_events: int = 10_000) -> None:
        self.recorder = recorder
        self.max_group_events = max_group_events
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Guards _closed together with the queue's tail: once close() has queued
        # _STOP, nothing can be queued after it, so every queued caller is
        # answered before the committer exits.
        self._closing_lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        if not stored_events:
            return []
        pending = Pending(list(stored_events))
        with self._closing_lock:
            if self._closed:
                raise RecorderClosedError
            self._queue.put(pending)
        return pending.wait()

    def close(self) -> None:
        """Commit what is queued, then stop the committer thread.

        Callers that insert from now on get RecorderClosedError.
        """
        with self._closing_lock:
            if not self._closed:
                self._closed = True
                self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        try:
            while self._commit_next_group():
                pass
        finally:
            # Normally the queue is empty here. If the committer died of a bug,
            # no caller may wait forever: refuse new ones, fail queued ones.
            with self._closing_lock:
                self._closed = True
            self._fail_queued()

    def _commit_next_group(self) -> bool:
        """Wait for callers, commit them and the callers queued behind them as one
        group; False once _STOP is reached."""
        item = self._queue.get()
        if item is _STOP:
            return False
        group: list[Pending] = [item]
        size = len(item.events)
        while size < self.max_group_events:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                self._commit_or_fail(group)
                return False
            group.append(item)
            size += len(item.events)
        self._commit_or_fail(group)
        return True

    def _commit_or_fail(self, group: list[Pending]) -> None:
        try:
            self._commit(group)
        except BaseException as error:
            # A bug, not a database error (_commit answers those): still answer
            # every caller of the group before the committer dies.
            for pending in group:
                if not pending.answered:
                    pending.fail(error)
            raise

    def _commit(self, group: list[Pending]) -> None:
        try:
            ids = self.recorder.insert_events([e for p in group for e in p.events])
        except (InterfaceError, OperationalError) as error:
            # The database is out of reach (the recorder has already retried):
            # each caller alone would fail the same way, only later.
            for pending in group:
                pending.fail(error)
            return
        except Exception as error:
            if len(group) == 1:
                group[0].fail(error)
            else:
                # Find the caller(s) at fault: a conflict fails only its own writer.
                for member in group:
                    self._commit([member])
            return
        assert ids is not None
        start = 0
        for pending in group:
            end = start + len(pending.events)
            pending.resolve(ids[start:end])
            start = end

    def _fail_queued(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP and not item.answered:
                item.fail(RecorderClosedError())

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
