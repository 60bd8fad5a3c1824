"""The file changes read model: what agents did to files, with diffs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.agent import FileChangedV1
from projections.log import RecordedEvent
from projections.projector import Cursor, Projector, copy_rows

COLUMNS = (
    "notification_id",
    "session_id",
    "agent_id",
    "agent_name",
    "task",
    "at",
    "path",
    "change",
    "diff",
)


class FileChangesProjector(Projector):
    name = "file_changes"

    def apply(self, events: Sequence[RecordedEvent], cur: Cursor) -> None:
        rows: list[tuple[Any, ...]] = []
        for e in events:
            p = e.payload
            if isinstance(p, FileChangedV1):
                who = self.directory.lookup(cur, e.stream_id)
                rows.append(
                    (
                        e.notification_id,
                        who.session_id,
                        e.stream_id,
                        who.name,
                        p.task,
                        e.timestamp,
                        p.path,
                        p.change,
                        p.diff,
                    )
                )
        copy_rows(cur, self.name, COLUMNS, rows)
