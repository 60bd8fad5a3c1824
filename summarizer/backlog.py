"""The events waiting for a summary, and which of them to ask about next.

A session's events go to the model together (one call summarizes up to
``batch`` of them) once there are enough of them or the oldest has waited
``wait_s``, so a busy session costs few calls and a quiet one still gets
its summaries within seconds. Far behind, the newest are asked about first:
what a person looks at now is what is happening now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from summarizer.request import EventNote


@dataclass
class Waiting:
    """An event waiting for its summary."""

    session_id: UUID
    agent_id: UUID
    note: EventNote
    seen_at: float  # monotonic
    taken: bool = False  # in a model call now


@dataclass
class _Session:
    waiting: dict[int, Waiting] = field(default_factory=dict)  # by notification id, in log order
    failures: int = 0  # calls failed in a row
    not_before: float = 0.0  # after a failure, when to try again


class Backlog:
    def __init__(self, batch: int, wait_s: float) -> None:
        self.batch = batch
        self.wait_s = wait_s
        self._sessions: dict[UUID, _Session] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, waiting: Waiting) -> None:
        session = self._sessions.setdefault(waiting.session_id, _Session())
        if waiting.note.id not in session.waiting:
            session.waiting[waiting.note.id] = waiting
            self._count += 1

    def done(self, session_id: UUID, notification_id: int) -> None:
        """The event has its summary (found in the log, or just saved)."""
        session = self._sessions.get(session_id)
        if session is not None and session.waiting.pop(notification_id, None) is not None:
            self._count -= 1
            if not session.waiting:
                del self._sessions[session_id]

    def due(self, now: float, newest_first: bool, limit: int) -> list[list[Waiting]]:
        """Up to ``limit`` batches to ask about now, one per session (taken
        until ``answered`` or ``failed``)."""
        batches: list[list[Waiting]] = []
        for session in self._sessions.values():
            if len(batches) >= limit:
                break
            if now < session.not_before:
                continue
            free = [w for w in session.waiting.values() if not w.taken]
            if not free or (len(free) < self.batch and now - free[0].seen_at < self.wait_s):
                continue
            chosen = free[-self.batch :] if newest_first else free[: self.batch]
            for waiting in chosen:
                waiting.taken = True
            batches.append(chosen)
        return batches

    def answered(self, batch: list[Waiting]) -> None:
        """The model answered: what it left out is asked about again."""
        for waiting in batch:
            waiting.taken = False
        if batch and (session := self._sessions.get(batch[0].session_id)) is not None:
            session.failures = 0

    def failed(self, batch: list[Waiting], retry_in_s: float, now: float) -> int:
        """The call failed: the session waits ``retry_in_s``; its failures in a row."""
        for waiting in batch:
            waiting.taken = False
        session = self._sessions.get(batch[0].session_id) if batch else None
        if session is None:
            return 0
        session.failures += 1
        session.not_before = now + retry_in_s
        return session.failures

    def failures(self, session_id: UUID) -> int:
        session = self._sessions.get(session_id)
        return session.failures if session else 0

    def low_water(self, scanned: int) -> int:
        """The position below which every event has its summary."""
        lowest = min(
            (next(iter(s.waiting)) for s in self._sessions.values() if s.waiting),
            default=scanned + 1,
        )
        return min(scanned, lowest - 1)
