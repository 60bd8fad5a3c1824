"""The system logs read model: podium's own messages."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg.types.json import Jsonb

from domain.system_log import SystemLoggedV1
from projections.log import RecordedEvent
from projections.projector import Cursor, Projector, copy_rows

COLUMNS = ("notification_id", "at", "level", "message", "context", "session_id")


class SystemLogsProjector(Projector):
    name = "system_logs"

    def apply(self, events: Sequence[RecordedEvent], cur: Cursor) -> None:
        rows = [
            (e.notification_id, e.timestamp, p.level, p.message, Jsonb(p.context), p.session_id)
            for e in events
            if isinstance(p := e.payload, SystemLoggedV1)
        ]
        copy_rows(cur, self.name, COLUMNS, rows)
