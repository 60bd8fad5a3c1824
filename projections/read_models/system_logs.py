"""The system logs read model: podium's own messages."""

from __future__ import annotations

from collections.abc import Sequence

from domain.system_log import SystemLogged, SystemLoggedV1
from eventlog.reading import RecordedEvent
from projections.projector import Projector, Tables

COLUMNS = ("notification_id", "at", "level", "message", "context", "session_id")


class SystemLogsProjector(Projector):
    name = "system_logs"
    weight = 0.05
    events = frozenset({SystemLogged})

    def apply(self, events: Sequence[RecordedEvent], tables: Tables) -> None:
        rows = [
            (e.notification_id, e.timestamp, p.level, p.message, p.context, p.session_id)
            for e in events
            if isinstance(p := e.payload, SystemLoggedV1)
        ]
        tables.append(self.name, COLUMNS, rows)  # context: the COPY knows it is jsonb
