"""What a projector is: a fold of events into the rows of one read model.

A projector folds a batch of events into its read model's rows and hands
them to a ``Tables``, which writes them: in the live runner's transaction,
which commits them together with the projector's new position in the log,
or into a rebuild's shadow tables. Projectors name tables unqualified, so
the same code fills the live tables or, with another ``search_path``, a
rebuild's shadow ones.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

import sql as sql_files
from domain.codec import PodiumEventType
from eventlog.reading import RecordedEvent
from projections.directory import AgentDirectory
from projections.tables import Tables

__all__ = ["Projector", "Tables", "usd"]


class Projector(ABC):
    """Builds one read model (a table of the same name) from the log."""

    name: ClassVar[str]
    events: ClassVar[frozenset[PodiumEventType]]  # the kinds of event it folds; it sees no others
    # What folding a log costs, roughly, next to the other projectors: how a
    # rebuild shares them among processes (measured on bench/rebuild.py's log).
    weight: ClassVar[float] = 1.0

    def __init__(self, directory: AgentDirectory) -> None:
        self.directory = directory

    def ddl(self) -> str:
        return sql_files.read("read_models", f"{self.name}.sql")

    @abstractmethod
    def apply(self, events: Sequence[RecordedEvent], tables: Tables) -> None:
        """Fold ``events`` (in log order) into the read model's rows in ``tables``."""


def usd(value: float) -> Decimal:
    """A logged cost as an exact decimal, so sums over the log are exact."""
    return Decimal(repr(value))
