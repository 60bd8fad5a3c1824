"""The summarizer's record: a short AI summary of agents' events, and what
each model call for them cost.

The summarizer is a consumer of the log like a projection, but what it makes
are events: one ``EventSummarized`` per summarized event, naming the event
(its notification id), its agent and its session, so a session's summaries
travel with it (the events view finds the session in the payload), and one
``SummarizerCalled`` per model call with its tokens and podium's price of
them: the summarizer's spend, apart from the agents'. A call that failed is
``SummarizerFailed``, with when it is tried again.

One stream per UTC hour: the summarizer is the stream's only writer and keeps
it in memory, and an hour's stream loads quickly when it starts again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5

from domain.aggregate import PodiumAggregate
from domain.events import Payload, PodiumCreated, PodiumEvent, Usage, check_cost
from domain.prices import PRICES
from domain.text import clean_text

SUMMARIZER_NAMESPACE = UUID("0b7c55a8-5f57-4f0e-9a43-2c1d6e3f9a21")
MAX_WORDS = 15  # a summary longer than this is cut to it
HOUR_FORMAT = "%Y-%m-%dT%H"


def summarizer_hour(at: datetime) -> str:
    """The stream's hour of a UTC time, as ``2026-12-02T08``."""
    return at.strftime(HOUR_FORMAT)


def summarizer_id(hour: str) -> UUID:
    return uuid5(SUMMARIZER_NAMESPACE, hour)


def short_summary(text: str) -> str:
    """One line of at most MAX_WORDS words (empty: nothing usable was said)."""
    words = clean_text(text).split()
    return " ".join(words[:MAX_WORDS])


class Summarizer(PodiumAggregate):
    """The summarizer's hour."""

    hour: str

    def __init__(self, payload: SummarizerOpenedV1) -> None:
        self.hour = payload.hour

    @classmethod
    def open(cls, hour: str) -> Summarizer:
        payload = SummarizerOpenedV1(hour=hour)
        return cls._create(SummarizerOpened, id=summarizer_id(hour), payload=payload)

    def summarize(
        self, notification_id: int, agent_id: UUID, session_id: UUID, summary: str
    ) -> None:
        said = short_summary(summary)
        if not said:
            raise ValueError(f"an empty summary of event #{notification_id}")
        payload = EventSummarizedV1(
            notification_id=notification_id,
            agent_id=agent_id,
            session_id=session_id,
            summary=said,
        )
        self.trigger_event(EventSummarized, payload=payload)

    def called(self, model: str, usage: Usage, *, events: int, duration_ms: int) -> None:
        """One model call summarized ``events`` events; priced from podium's table."""
        usage.check()
        usage, priced = PRICES.priced(model, usage)
        if priced is not None:
            check_cost(priced)
        payload = SummarizerCalledV1(
            model=model, usage=usage, priced_usd=priced, events=events, duration_ms=duration_ms
        )
        self.trigger_event(SummarizerCalled, payload=payload)

    def failed(self, error: str, *, events: int, attempt: int, retry_in_s: float) -> None:
        payload = SummarizerFailedV1(
            error=clean_text(error), events=events, attempt=attempt, retry_in_s=retry_in_s
        )
        self.trigger_event(SummarizerFailed, payload=payload)


class SummarizerOpenedV1(Payload, frozen=True):
    hour: str


class EventSummarizedV1(Payload, frozen=True):
    notification_id: int  # the summarized event's
    agent_id: UUID
    session_id: UUID
    summary: str


class SummarizerCalledV1(Payload, frozen=True):
    model: str
    usage: Usage
    priced_usd: float | None  # None: a model podium's price table does not know
    events: int
    duration_ms: int


class SummarizerFailedV1(Payload, frozen=True):
    error: str
    events: int
    attempt: int  # 1 for the first failure of these events
    retry_in_s: float


@dataclass(frozen=True)
class SummarizerOpened(PodiumCreated):
    payload: SummarizerOpenedV1


@dataclass(frozen=True)
class EventSummarized(PodiumEvent):
    payload: EventSummarizedV1


@dataclass(frozen=True)
class SummarizerCalled(PodiumEvent):
    payload: SummarizerCalledV1


@dataclass(frozen=True)
class SummarizerFailed(PodiumEvent):
    payload: SummarizerFailedV1
