"""The summarizer's record of a session: a short AI summary of its agents'
events, and what each model call for them cost.

The summarizer is a consumer of the log like a projection, but what it makes
are events, on one stream per session that only the summarizer writes: one
``EventSummarized`` per summarized event (naming the event by its
notification id, and its agent), and one ``SummarizerCalled`` per model call
with its tokens and podium's price of them, the summarizer's spend apart from
the agents'. A call that failed is ``SummarizerFailed``, with when it is tried
again. A session's summaries are a stream of their own so that they travel
with the session (export and import move whole streams).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

from domain import agent as a
from domain.aggregate import PodiumAggregate
from domain.events import Payload, PodiumCreated, PodiumEvent, Usage, check_cost
from domain.prices import PRICES
from domain.text import clean_text

SUMMARIZER_NAMESPACE = UUID("0b7c55a8-5f57-4f0e-9a43-2c1d6e3f9a21")
MAX_WORDS = 15  # a summary longer than this is cut to it
MAX_CHARS = 160  # ... and one of 15 long "words" (a path, some JSON) to this

# What is summarized: what an agent says and does, not its hooks, thinking or
# statuses. A tool use is summarized with its result, on the completion.
SUMMARIZED_EVENTS = frozenset(
    {a.AgentTextEmitted, a.ToolUseCompleted, a.FileChanged, a.TurnCompleted, a.AgentFailed}
)


def summaries_id(session_id: UUID) -> UUID:
    """The stream of a session's summaries."""
    return uuid5(SUMMARIZER_NAMESPACE, str(session_id))


def short_summary(text: str) -> str:
    """One line of at most MAX_WORDS words and MAX_CHARS characters (empty:
    nothing usable was said)."""
    said = " ".join(clean_text(text).split()[:MAX_WORDS])
    return said if len(said) <= MAX_CHARS else said[: MAX_CHARS - 1].rstrip() + "…"


class Summaries(PodiumAggregate):
    """A session's summaries and the summarizer's calls for them.

    It knows which events it has summarized, so an event is summarized once
    however many summarizers race (a save that lost decides again on the
    stream as the winner left it).
    """

    session_id: UUID
    summarized: set[int]

    def __init__(self, payload: SummariesOpenedV1) -> None:
        self.session_id = payload.session_id
        self.summarized = set()

    @classmethod
    def open(cls, session_id: UUID) -> Summaries:
        payload = SummariesOpenedV1(session_id=session_id)
        return cls._create(SummariesOpened, id=summaries_id(session_id), payload=payload)

    def summarize(self, notification_id: int, agent_id: UUID, summary: str) -> bool:
        """Record the event's summary; False (and nothing recorded) when it has one."""
        if notification_id in self.summarized:
            return False
        said = short_summary(summary)
        if not said:
            raise ValueError(f"an empty summary of event #{notification_id}")
        payload = EventSummarizedV1(
            notification_id=notification_id,
            agent_id=agent_id,
            session_id=self.session_id,
            summary=said,
        )
        self.trigger_event(EventSummarized, payload=payload)
        return True

    def called(self, model: str, usage: Usage, *, events: int, duration_ms: int) -> None:
        """One model call summarized ``events`` events; priced from podium's table."""
        usage.check()
        usage, priced = PRICES.priced(model, usage)
        if priced is not None:
            check_cost(priced)
        payload = SummarizerCalledV1(
            session_id=self.session_id,
            model=model,
            usage=usage,
            priced_usd=priced,
            events=events,
            duration_ms=duration_ms,
        )
        self.trigger_event(SummarizerCalled, payload=payload)

    def failed(self, error: str, *, events: int, attempt: int, retry_in_s: float) -> None:
        payload = SummarizerFailedV1(
            session_id=self.session_id,
            error=clean_text(error),
            events=events,
            attempt=attempt,
            retry_in_s=retry_in_s,
        )
        self.trigger_event(SummarizerFailed, payload=payload)


class SummariesOpenedV1(Payload, frozen=True):
    session_id: UUID


class EventSummarizedV1(Payload, frozen=True):
    notification_id: int  # the summarized event's
    agent_id: UUID
    session_id: UUID  # the stream's, here too: the events view reads it from the payload
    summary: str


class SummarizerCalledV1(Payload, frozen=True):
    session_id: UUID
    model: str
    usage: Usage
    priced_usd: float | None  # None: a model podium's price table does not know
    events: int
    duration_ms: int


class SummarizerFailedV1(Payload, frozen=True):
    session_id: UUID
    error: str
    events: int
    attempt: int  # 1 for the first failure of these events
    retry_in_s: float


@dataclass(frozen=True)
class SummariesOpened(PodiumCreated):
    payload: SummariesOpenedV1


@dataclass(frozen=True)
class EventSummarized(PodiumEvent):
    payload: EventSummarizedV1

    def apply(self, aggregate: Summaries) -> None:
        aggregate.summarized.add(self.payload.notification_id)


@dataclass(frozen=True)
class SummarizerCalled(PodiumEvent):
    payload: SummarizerCalledV1


@dataclass(frozen=True)
class SummarizerFailed(PodiumEvent):
    payload: SummarizerFailedV1
