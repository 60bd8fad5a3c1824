"""The file changes read model: what agents did to files, with diffs, and
the tool call that did it."""

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
    "tool",
    "tool_use_id",
    "previous_path",
    "diff_cut_from",
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
                        p.tool,
                        p.tool_use_id,
                        p.previous_path,
                        p.diff_cut_from,
                    )
                )
        tables.append(self.name, COLUMNS, rows)
