"""Group commit: the pending events of many writers saved in one transaction.

Every append to the store takes the events table's write lock and waits for
its commit to reach disk. Done one caller at a time, concurrent agents would
queue behind each other's fsync. Instead, callers hand their stored events
to one committer thread, which takes what has queued up while the previous
commit was in flight and inserts it in a single transaction. Each caller
still waits for its own events to be durable and gets its own notification
ids back; a caller whose events conflict (a stale aggregate version) gets
the error alone, because a failed group is retried caller by caller. How
much of what waits one group takes is ``eventlog.group_sizing``'s rule.

Callers are threads (``insert_events`` blocks) or asyncio tasks
(``await insert_events_async``). Tasks are woken a loop at a time: the
committer hands each event loop the answers of all its tasks in a group at
once, so a group of tasks costs the loop one wake-up, not one per task, and
no thread is parked per save.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections import deque
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

from domain.ports import AsyncRecorder
from eventlog import metrics
from eventlog.group_sizing import MAX_GROUP_EVENTS, GroupSizing

_STOP = object()


class RecorderClosedError(RuntimeError):
    """Raised to a caller that inserts after the recorder was closed."""

    def __init__(self) -> None:
        super().__init__("the event store is closed: no more events can be saved")


class Caller:
    """One caller's events, waiting for the committer's answer: their ids, or an error."""

    __slots__ = ("answered", "error", "events", "ids", "queued_at")

    def __init__(self, events: list[StoredEvent]) -> None:
        self.events = events
        self.queued_at = time.perf_counter()  # the writers' pace (eventlog.group_sizing)
        self.ids: Sequence[int] = ()
        self.error: BaseException | None = None
        self.answered = False

    def resolve(self, ids: Sequence[int]) -> None:
        self.ids = ids
        self._answer()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self._answer()

    def _answer(self) -> None:
        # Only the committer thread answers, and only once per caller.
        assert not self.answered
        self.answered = True
        self._wake()

    def _wake(self) -> None:
        raise NotImplementedError


class WaitingThread(Caller):
    """A thread blocked in ``insert_events``.

    Its latch is a plain lock, not a concurrent.futures.Future: a Future
    builds a Condition per call and another lock per waiter, a cost every
    save pays on the writers' side of the GIL.
    """

    __slots__ = ("_latch",)

    def __init__(self, events: list[StoredEvent]) -> None:
        super().__init__(events)
        self._latch = threading.Lock()
        self._latch.acquire()  # released by the committer's answer

    def wait(self) -> Sequence[int]:
        """Block until answered; the ids, or raise the error."""
        with self._latch:
            pass
        if self.error is not None:
            raise self.error
        return self.ids

    def _wake(self) -> None:
        self._latch.release()


class WaitingTask(Caller):
    """An asyncio task awaiting ``insert_events_async``; woken with its loop's others."""

    __slots__ = ("future", "loop")

    def __init__(self, events: list[StoredEvent], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(events)
        self.loop = loop
        self.future: asyncio.Future[Sequence[int]] = loop.create_future()

    def _wake(self) -> None:
        pass  # _wake_tasks() does, for all of a group's tasks at once

    def settle(self) -> None:
        """On the task's loop: pass the answer on (unless the task stopped waiting)."""
        if self.future.done():
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.ids)


def _settle(tasks: list[WaitingTask]) -> None:
    for task in tasks:
        task.settle()


def _wake_tasks(callers: Sequence[Caller]) -> None:
    """Hand every event loop the answers of its tasks among ``callers``, in one call."""
    by_loop: dict[asyncio.AbstractEventLoop, list[WaitingTask]] = {}
    for caller in callers:
        if isinstance(caller, WaitingTask) and caller.answered:
            by_loop.setdefault(caller.loop, []).append(caller)
    for loop, tasks in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_settle, tasks)


class GroupCommitRecorder(ApplicationRecorder, AsyncRecorder):
    """An application recorder whose inserts are committed in groups.

    Reads go straight to the wrapped recorder.
    """

    def __init__(
        self, recorder: ApplicationRecorder, max_group_events: int = MAX_GROUP_EVENTS
    ) -> None:
        self.recorder = recorder
        self._sizing: GroupSizing[Caller] = GroupSizing(max_group_events)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Callers taken off the queue but left for a later group, oldest first
        # (only the committer thread touches it).
        self._waiting: deque[Caller] = deque()
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
        caller = WaitingThread(list(stored_events))
        self._enqueue(caller)
        return caller.wait()

    async def insert_events_async(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        """``insert_events`` for asyncio code: the same group commit, awaited.

        As with a thread, the events are committed (or refused) whether or
        not the task still waits for the answer: cancelling it withdraws
        nothing.
        """
        if not stored_events:
            return []
        caller = WaitingTask(list(stored_events), asyncio.get_running_loop())
        self._enqueue(caller)
        return await caller.future

    def _enqueue(self, caller: Caller) -> None:
        with self._closing_lock:
            if self._closed:
                raise RecorderClosedError
            self._queue.put(caller)

    def close(self) -> None:
        """Commit what is queued, stop the committer thread, close the wrapped recorder.

        Callers that insert from now on get RecorderClosedError.
        """
        with self._closing_lock:
            if not self._closed:
                self._closed = True
                self._queue.put(_STOP)
        self._thread.join()
        close = getattr(self.recorder, "close", None)  # podium's recorder owns a connection
        if close is not None:
            close()

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
        """Wait for callers, commit a group of everything waiting (as the sizing
        says); False once _STOP is reached and everything before it committed."""
        waiting = self._waiting
        if not waiting:
            item = self._queue.get()
            if item is _STOP:
                return False
            waiting.append(item)
        stopping = False
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:  # close() queued it last: nothing can come after it
                stopping = True
                break
            waiting.append(item)
        self._commit_or_fail(self._sizing.take(waiting))
        while stopping and waiting:
            self._commit_or_fail(self._sizing.take(waiting))
        return not stopping

    def _commit_or_fail(self, group: list[Caller]) -> None:
        began = time.perf_counter()
        try:
            self._commit(group)
        except BaseException as error:
            # A bug, not a database error (_commit answers those): still answer
            # every caller of the group before the committer dies.
            for caller in group:
                if not caller.answered:
                    caller.fail(error)
            raise
        finally:
            _wake_tasks(group)
            answered = time.perf_counter()
            self._sizing.committed(began, answered)
        saved = sum(len(caller.events) for caller in group if caller.error is None)
        if saved:
            metrics.group_committed(saved, group[0].queued_at, answered)

    def _commit(self, group: list[Caller]) -> None:
        try:
            ids = self.recorder.insert_events([e for c in group for e in c.events])
        except (InterfaceError, OperationalError) as error:
            # The database is out of reach (the recorder has already retried):
            # each caller alone would fail the same way, only later.
            for caller in group:
                caller.fail(error)
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
        for caller in group:
            end = start + len(caller.events)
            caller.resolve(ids[start:end])
            start = end

    def _fail_queued(self) -> None:
        failed = [caller for caller in self._waiting if not caller.answered]
        self._waiting.clear()
        for caller in failed:
            caller.fail(RecorderClosedError())
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP and not item.answered:
                item.fail(RecorderClosedError())
                failed.append(item)
        _wake_tasks(failed)

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
