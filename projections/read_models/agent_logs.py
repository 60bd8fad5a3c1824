"""The agent logs read model: every event of every agent, with a summary.

The rows hold no payload: the log has it (the ``events`` view, by
notification id), and storing it twice made this table the slowest to write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain import agent as a
from domain.categories import CATEGORIES
from domain.codec import PodiumEventType
from domain.summarizer import EventSummarized, EventSummarizedV1
from eventlog.reading import RecordedEvent, events_of
from projections.projector import Projector, Tables
from projections.summary import summarize

COLUMNS = (
    "notification_id",
    "session_id",
    "agent_id",
    "agent_name",
    "task",
    "event_type",
    "category",
    "at",
    "summary",
)

# The category of each agent event (the vocabulary's, for this stream type), as
# plain text: the rows are written by COPY.
AGENT_CATEGORIES: dict[PodiumEventType, str] = {
    cls: category.value for cls, category in CATEGORIES.items() if cls in events_of(a)
}


class AgentLogsProjector(Projector):
    name = "agent_logs"
    weight = 3.0
    events = frozenset({*AGENT_CATEGORIES, EventSummarized})

    def apply(self, events: Sequence[RecordedEvent], tables: Tables) -> None:
        rows: list[tuple[Any, ...]] = []
        summaries: list[tuple[int, str]] = []
        lookup, cur, categories = self.directory.lookup, tables.cur, AGENT_CATEGORIES
        for e in events:
            cls = e.event_class
            category = categories.get(cls)
            if category is not None:
                who = lookup(cur, e.stream_id)
                p = e.payload
                rows.append(
                    (
                        e.notification_id,
                        who.session_id,
                        e.stream_id,
                        who.name,
                        getattr(p, "task", None),
                        cls.__name__,
                        category,
                        e.timestamp,
                        summarize(p),
                    )
                )
            else:  # EventSummarized
                p = e.payload
                assert isinstance(p, EventSummarizedV1)
                # Only an earlier event can be summarized: a row appended later
                # keeps no summary however the log is cut into batches.
                if p.notification_id < e.notification_id:
                    summaries.append((p.notification_id, p.summary))
        tables.append(self.name, COLUMNS, rows)
        tables.annotate(self.name, "ai_summary", summaries)
