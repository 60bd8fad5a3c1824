"""The system log: podium's own messages, as events like everything else.

One stream per UTC day keeps any stream short enough to load quickly, and
gives audit queries a natural partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from domain.aggregate import PodiumAggregate
from domain.events import Payload, PodiumCreated, PodiumEvent
from domain.vocabulary import Level

SYSTEM_LOG_NAMESPACE = UUID("6f1d2a52-3c0e-4d59-9a53-8d1f0c6a7b10")


def system_log_id(day: date) -> UUID:
    return uuid5(SYSTEM_LOG_NAMESPACE, day.isoformat())


class SystemLog(PodiumAggregate):
    """The day's system log."""

    day: str

    def __init__(self, payload: SystemLogOpenedV1) -> None:
        self.day = payload.day

    @classmethod
    def open(cls, day: date) -> SystemLog:
        payload = SystemLogOpenedV1(day=day.isoformat())
        return cls._create(SystemLogOpened, id=system_log_id(day), payload=payload)

    def log(
        self,
        level: str,
        message: str,
        context: dict[str, str] | None = None,
        session_id: UUID | None = None,
    ) -> None:
        if level not in {known.value for known in Level}:
            raise ValueError(f"unknown log level {level!r}: use one of {', '.join(Level)}")
        payload = SystemLoggedV1(
            level=level, message=message, context=context or {}, session_id=session_id
        )
        self.trigger_event(SystemLogged, payload=payload)


class SystemLogOpenedV1(Payload, frozen=True):
    day: str


class SystemLoggedV1(Payload, frozen=True):
    level: str
    message: str
    context: dict[str, str]
    session_id: UUID | None = None


@dataclass(frozen=True)
class SystemLogOpened(PodiumCreated):
    payload: SystemLogOpenedV1


@dataclass(frozen=True)
class SystemLogged(PodiumEvent):
    payload: SystemLoggedV1
