"""The projection runner: keeps read models current, exactly once.

Each batch is one transaction: lock the projections' tracking rows, read the
events after the lowest position, let every projector fold the events it has
not seen, move the positions, commit. Rows and positions commit together, so
a crash at any point loses nothing and applies nothing twice; and because the
positions are read under a row lock inside the transaction, any number of
runners (or a rebuild swapping tables in) can share a database.

One bad event stalls nothing: what a projector cannot fold, or nobody can
decode, is skipped by that read model and recorded as a fault in the same
transaction, and the batch carries on (``projections.fold``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from eventlog.following import listening_blocking
from eventlog.reading import Connection, Unreadable, last_read, read_events
from projections.directory import AgentDirectory
from projections.faults import record_faults, tell, unreadable_faults
from projections.fold import fold_or_isolate
from projections.read_models import NAMES, projectors

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 5_000
RETRY_AFTER = 1.0


class ProjectionRunner:
    """Applies new events to the read models, in batches, from LISTEN/NOTIFY."""

    def __init__(
        self,
        conninfo: str,
        names: Sequence[str] = NAMES,
        batch_size: int = DEFAULT_BATCH,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.directory = AgentDirectory()
        self.projectors = projectors(names, self.directory)
        self.batch_size = batch_size
        self.on_batch = on_batch  # called with the last applied notification id
        self.stopping = threading.Event()

    def run_batch(self, conn: Connection) -> int:
        """Apply one batch; returns how many stored events it read (0: up to date).

        An event that cannot be decoded, or that a projector cannot fold, is
        skipped by that projector and recorded as a fault in the same
        transaction (``projections.fold``, ``projections.faults``).
        """
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "SELECT projection, notification_id FROM projection_tracking "
                "WHERE projection = ANY(%s) FOR UPDATE",
                ([p.name for p in self.projectors],),
            )
            positions: dict[str, int] = dict(cur.fetchall())
            start = min(positions.get(p.name, 0) for p in self.projectors)
            unreadable: list[Unreadable] = []
            events = read_events(conn, start, self.batch_size, unreadable=unreadable)
            if not events and not unreadable:
                return 0
            last = last_read(events, unreadable)
            self.directory.learn(events)
            found = unreadable_faults(self.projectors, positions, unreadable)
            found += fold_or_isolate(cur, self.projectors, positions, events)
            new = record_faults(cur, found)
            cur.executemany(
                "INSERT INTO projection_tracking (projection, notification_id) VALUES (%s, %s) "
                "ON CONFLICT (projection) DO UPDATE SET notification_id = EXCLUDED.notification_id",
                [(p.name, last) for p in self.projectors],
            )
        tell(self.conninfo, new)
        if self.on_batch:
            self.on_batch(last)
        return len(events) + len(unreadable)

    def catch_up(self, conn: Connection) -> int:
        """Apply batches until the read models reach the head of the log."""
        total = 0
        while not self.stopping.is_set() and (n := self.run_batch(conn)):
            total += n
        return total

    def run_forever(self, poll_seconds: float = 1.0) -> None:
        """Catch up, then apply new events as NOTIFY announces them, until stop().

        A failure (the database went away, a connection broke) is logged and
        followed again a second later: read models must not stop silently
        while the rest of podium runs. (A batch that failed rolled back whole.)
        """
        while not self.stopping.is_set():
            try:
                self._follow(poll_seconds)
            except Exception:
                logger.exception("the projections lost the log; following it again in a second")
                self.stopping.wait(RETRY_AFTER)

    def _follow(self, poll_seconds: float) -> None:
        with listening_blocking(self.conninfo, "podium projections") as appends:
            while not self.stopping.is_set():
                self.catch_up(appends.conn)
                # Wake on the next append, or poll now and then in case a NOTIFY
                # was missed while the connection was busy.
                appends.wait(poll_seconds)

    def stop(self) -> None:
        self.stopping.set()
