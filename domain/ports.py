"""What the application service needs of a store beyond eventsourcing's recorder.

The domain names the port; ``eventlog`` implements it on PostgreSQL (group
commit). A recorder without it (eventsourcing's in-memory one, in tests of
the rules) is awaited on a thread instead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from eventsourcing.persistence import StoredEvent


class AsyncRecorder(ABC):
    """A recorder whose inserts asyncio code can await, and that must be closed."""

    @abstractmethod
    async def insert_events_async(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        """Insert the events in one transaction; their notification ids, in order."""

    @abstractmethod
    def close(self) -> None:
        """Commit what is queued, then release what the recorder holds."""
