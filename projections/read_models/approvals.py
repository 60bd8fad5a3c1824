"""The approvals read model: every request for permission, pending or decided."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg.types.json import Jsonb

from domain import approval as ap
from eventlog.reading import RecordedEvent, events_of
from projections.projector import Projector, Tables


class ApprovalsProjector(Projector):
    name = "approvals"
    weight = 0.05
    events = events_of(ap)

    def apply(self, events: Sequence[RecordedEvent], tables: Tables) -> None:
        rows = tables.keyed(self.name, {"id": "uuid"})
        rows.load((e.stream_id,) for e in events if e.event_class is not ap.ApprovalRequested)
        for event in events:
            p = event.payload
            if isinstance(p, ap.ApprovalRequestedV1):
                rows.put(
                    (event.stream_id,),
                    {
                        "id": event.stream_id,
                        "session_id": p.session_id,
                        "agent_id": p.agent_id,
                        "agent": p.agent,
                        "task": p.task,
                        "tool": p.tool,
                        "input": Jsonb(p.input),
                        "rule": p.rule,
                        "status": ap.ApprovalStatus.PENDING.value,
                        "scope": None,
                        "message": None,
                        "requested_at": event.timestamp,
                        "decided_at": None,
                        "decided_by": None,
                        "notification_id": event.notification_id,
                    },
                )
                continue
            row = rows.touch((event.stream_id,))
            if row is None:
                continue
            if not isinstance(row["input"], Jsonb):  # as read back from the table
                row["input"] = Jsonb(row["input"])
            row["decided_at"] = event.timestamp
            match p:
                case ap.ApprovalGrantedV1():
                    row.update(status=ap.ApprovalStatus.GRANTED.value, scope=p.scope.value)
                    row["decided_by"] = p.by
                case ap.ApprovalDeniedV1():
                    row.update(status=ap.ApprovalStatus.DENIED.value, message=p.message)
                    row["decided_by"] = p.by
                case ap.ApprovalExpiredV1():
                    row.update(status=ap.ApprovalStatus.EXPIRED.value, message=p.reason)
