"""Events a read model skipped: recorded, counted and told, never silently lost.

A read model skips an event it cannot fold (a projector raised on it,
PostgreSQL refused its rows) or that cannot be decoded at all. Each skip is
a row of ``projection_faults`` (sql/projection_tables.sql), written in the transaction
that moves the read model past the event, so it is recorded exactly once
however many runners share the database, and told once in the system log,
at level error. A rebuild replaces its read models' faults with the ones it
meets: a projector fixed since no longer skips what it used to.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import msgspec

from eventlog.postgres import open_podium
from eventlog.reading import Connection, Cursor, Unreadable
from projections.projector import Projector
from projections.read_models import NAMES

logger = logging.getLogger(__name__)

RECENT = 100  # faults that ``faults`` lists, newest first
# Also the events view's list of suspect rows (eventlog.schema), read the careful way.
FAULTS_TABLE = "projection_faults"


class Fault(msgspec.Struct, frozen=True):
    """A read model skipped an event."""

    projection: str
    notification_id: int
    error: str


class RecordedFault(msgspec.Struct, frozen=True):
    projection: str
    notification_id: int
    error: str
    recorded_at: datetime


class Faults(msgspec.Struct, frozen=True):
    """How many events each read model skipped (every read model is named), and
    the latest skips."""

    counts: dict[str, int]
    recent: list[RecordedFault]


def faults(conn: Connection, limit: int = RECENT) -> Faults:
    """The read models' faults: the count per read model (the metric), the latest ones."""
    counts = conn.execute(
        "SELECT t.projection, count(f.notification_id) FROM projection_tracking t "
        f"LEFT JOIN {FAULTS_TABLE} f USING (projection) WHERE t.projection = ANY(%s) "
        "GROUP BY t.projection ORDER BY 1",
        (list(NAMES),),  # the read models (the runtime tracks its claims there too)
    ).fetchall()
    recent = conn.execute(
        f"SELECT projection, notification_id, error, recorded_at FROM {FAULTS_TABLE} "
        "ORDER BY recorded_at DESC, notification_id DESC, projection LIMIT %s",
        (limit,),
    ).fetchall()
    return Faults(dict(counts), [RecordedFault(*row) for row in recent])


def unreadable_faults(
    projectors: Sequence[Projector], positions: dict[str, int], unreadable: list[Unreadable]
) -> list[Fault]:
    """The faults of undecodable events: one for each projector past whose position
    the event is and that takes its kind of event (every one, if its kind is unknown)."""
    return [
        Fault(p.name, u.notification_id, u.error)
        for u in unreadable
        for p in projectors
        if u.notification_id > positions.get(p.name, 0)
        and (u.event_class is None or u.event_class in p.events)
    ]


_INSERT = (
    f"INSERT INTO {FAULTS_TABLE} (projection, notification_id, error) "
    "SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[]) "
    "ON CONFLICT DO NOTHING RETURNING projection, notification_id, error"
)


def record_faults(cur: Cursor, found: Sequence[Fault]) -> list[Fault]:
    """Insert the faults (in the caller's transaction); returns those not recorded before."""
    if not found:
        return []
    cur.execute(_INSERT, _columns(found))
    return [Fault(*row) for row in cur.fetchall()]


def replace_faults(cur: Cursor, names: Sequence[str], found: Sequence[Fault]) -> list[Fault]:
    """Make ``found`` the named read models' faults (a rebuild's); returns the new ones."""
    cur.execute(
        f"DELETE FROM {FAULTS_TABLE} f WHERE f.projection = ANY(%s) AND NOT EXISTS ("
        "SELECT FROM unnest(%s::text[], %s::bigint[]) AS n (projection, notification_id) "
        "WHERE (n.projection, n.notification_id) = (f.projection, f.notification_id))",
        (list(names), *_columns(found)[:2]),
    )
    return record_faults(cur, found)


def _columns(found: Sequence[Fault]) -> tuple[list[str], list[int], list[str]]:
    return (
        [f.projection for f in found],
        [f.notification_id for f in found],
        [f.error for f in found],
    )


def tell(conninfo: str, new: Sequence[Fault]) -> None:
    """Say in the system log, at level error, which events were skipped and why
    (one entry per event). After the faults' commit: a crash between the two
    loses the entry, never the fault."""
    if not new:
        return
    by_event: dict[int, list[Fault]] = {}
    for fault in new:
        by_event.setdefault(fault.notification_id, []).append(fault)
    try:
        app = open_podium(conninfo, pool_size=1)
    except Exception:
        logger.exception("could not log %d skipped events in the system log", len(by_event))
        return
    try:
        for notification_id, skipped in by_event.items():
            names = ", ".join(f.projection for f in skipped)
            app.write_system_log(
                "error",
                f"event #{notification_id} was skipped by {names}: {skipped[0].error}",
                {"notification_id": str(notification_id), "projections": names},
            )
    except Exception:
        logger.exception("could not log the skipped events in the system log")
    finally:
        app.close()
