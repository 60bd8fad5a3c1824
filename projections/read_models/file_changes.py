"""The file changes read model: what agents did to files, with diffs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.agent import FileChanged, FileChangedV2
from eventlog.reading import RecordedEvent
from projections.projector import Projector, Tables

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
    weight = 0.1
    events = frozenset({FileChanged})

    def apply(self, events: Sequence[RecordedEvent], tables: Tables) -> None:
        rows: list[tuple[Any, ...]] = []
        for e in events:
            p = e.payload
            if isinstance(p, FileChangedV2):
                who = self.directory.lookup(tables.cur, e.stream_id)
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
        tables.append(self.name, COLUMNS, rows)
