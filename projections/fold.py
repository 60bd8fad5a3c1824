"""Folding a batch of events into the projectors, and finding the event that breaks one.

A batch is folded whole, in a savepoint. When that fails for anything but a
lost database (a projector raised, or PostgreSQL refused a row), the batch
is folded again projector by projector, each in a savepoint of its own, and
a projector's events that fail are halved until the events that fail alone
are found: those are the poison, returned as faults; all the others are
folded, in log order. One bad event costs a few savepoints, never the read
model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import psycopg

from domain.codec import PodiumEventType
from eventlog.reading import Cursor, RecordedEvent, describe
from projections.faults import Fault
from projections.projector import Projector
from projections.tables import Tables, TransactionTables

logger = logging.getLogger(__name__)

# Errors that say nothing about the events: the batch is retried as it is.
LOST_DATABASE = (psycopg.OperationalError, psycopg.InterfaceError)


def deal(
    projectors: Sequence[Projector], positions: dict[str, int], events: list[RecordedEvent]
) -> list[tuple[Projector, list[RecordedEvent]]]:
    """Each projector with the events it takes that are past its own position."""
    # One pass deals the events out (a rebuild deals millions): each kind of
    # event goes to the lists of the projectors that take it.
    taken: list[list[RecordedEvent]] = [[] for _ in projectors]
    routes: dict[PodiumEventType, list[Callable[[RecordedEvent], None]]] = {}
    for projector, mine in zip(projectors, taken, strict=True):
        for kind in projector.events:
            routes.setdefault(kind, []).append(mine.append)
    for event in events:
        for take in routes.get(event.event_class, ()):
            take(event)
    dealt = []
    for projector, mine in zip(projectors, taken, strict=True):
        after = positions.get(projector.name, 0)
        unseen = [e for e in mine if e.notification_id > after] if after else mine
        if unseen:
            dealt.append((projector, unseen))
    return dealt


def apply_batch(
    projectors: Sequence[Projector],
    positions: dict[str, int],
    events: list[RecordedEvent],
    tables: Tables,
) -> None:
    """Let each projector fold the events it takes that are past its own position."""
    for projector, unseen in deal(projectors, positions, events):
        projector.apply(unseen, tables)


def fold_or_isolate(
    cur: Cursor,
    projectors: Sequence[Projector],
    positions: dict[str, int],
    events: list[RecordedEvent],
) -> list[Fault]:
    """Fold the batch into the tables ``cur`` sees, in the caller's transaction, but
    the events no projector can fold alone: returns those, as faults."""
    if not events:
        return []
    try:
        with cur.connection.transaction():
            tables = TransactionTables(cur)
            apply_batch(projectors, positions, events, tables)
            tables.flush()
        return []
    except LOST_DATABASE:
        raise
    except Exception:
        logger.warning(
            "a batch of events %d-%d failed; folding it event by event to find the poison",
            events[0].notification_id,
            events[-1].notification_id,
            exc_info=True,
        )
    faults: list[Fault] = []
    for projector, unseen in deal(projectors, positions, events):
        faults += _fold_halving(cur, projector, unseen)
    return faults


def _fold_halving(cur: Cursor, projector: Projector, events: list[RecordedEvent]) -> list[Fault]:
    try:
        with cur.connection.transaction():
            tables = TransactionTables(cur)  # new: a failed fold's rows stay with it
            projector.apply(events, tables)
            tables.flush()
        return []
    except LOST_DATABASE:
        raise
    except Exception as error:
        if len(events) == 1:
            return [Fault(projector.name, events[0].notification_id, describe(error))]
    half = len(events) // 2
    return _fold_halving(cur, projector, events[:half]) + _fold_halving(
        cur, projector, events[half:]
    )
