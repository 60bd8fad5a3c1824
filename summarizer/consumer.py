"""The summarizer as a consumer of the log: exactly once, beside everything else.

Its position is a row of ``projection_tracking`` ("summarizer"): every event
it summarizes at or below it has its summary. Summaries may be saved out of
log order (newest first when far behind), so the row is a low-water mark and
a restart reads the log again from it; what it finds summarized there (an
``EventSummarized`` always comes after the event it names) it does not ask
about again. That a summary is saved once is the ``Summaries`` aggregate's
rule (it knows what it has summarized; a save that lost the race decides
again), so even two summarizers could not summarize an event twice. One
summarizer works at a time anyway, the one holding its advisory lock: two
would pay for the same calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import psycopg
from eventsourcing.application import AggregateNotFoundError

from domain.agent_payloads import ToolUseCompletedV1, ToolUseRequestedV1
from domain.application import Podium
from domain.summarizer import SUMMARIZED_EVENTS, EventSummarizedV1, Summaries, summaries_id
from eventlog.following import listening
from eventlog.reading import Connection, RecordedEvent, read_events
from projections.directory import AgentDirectory
from summarizer.api import Answer, ApiSettings, CallFailed, MessagesApi
from summarizer.backlog import Backlog, Waiting
from summarizer.pacing import RateLimit, backoff
from summarizer.request import note, request_body

logger = logging.getLogger(__name__)

POSITION = "summarizer"  # its row in projection_tracking
LOCK = "SELECT pg_try_advisory_lock(hashtext('podium summarizer'))"
PAGE = 2_000
TICK_S = 0.25  # how often due batches are looked for between appends
STAND_BY_S = 5.0  # how often a summarizer that does not hold the lock asks again
KEEP_TOOL_INPUTS = 10_000  # tool calls whose input waits for their result


@dataclass(frozen=True)
class SummarizerSettings:
    model: str = "claude-haiku-4-5"
    batch: int = 25  # events per call at most
    wait_s: float = 2.0  # what arrived within this goes into one call
    calls_per_minute: int = 120  # a 429 (with its retry-after) slows it further
    concurrency: int = 4  # calls in flight at once
    far_behind: int = 500  # events waiting: past this, the newest first


class SummaryModel(Protocol):
    async def summaries(self, body: dict[str, Any]) -> Answer: ...


class Summarizer:
    def __init__(
        self, app: Podium, conninfo: str, model: SummaryModel, settings: SummarizerSettings
    ) -> None:
        self.app = app
        self.conninfo = conninfo
        self.model = model
        self.settings = settings
        self.backlog = Backlog(settings.batch, settings.wait_s)
        self.rate = RateLimit(settings.calls_per_minute)
        self._directory = AgentDirectory()
        self._tool_inputs: dict[str, Any] = {}
        self._streams: dict[UUID, Summaries] = {}
        self._calls: set[asyncio.Task[None]] = set()
        self._behind = False
        self.scanned = 0
        self.position = 0

    async def run(self, stopping: asyncio.Event) -> None:
        """Summarize until ``stopping`` is set; stand by while another summarizer works."""
        while not stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, application_name="podium summarizer"
                ) as lock:
                    row = await (await lock.execute(LOCK)).fetchone()
                    if row and row[0]:
                        await self._lead(stopping)
                        continue
                await _wait(stopping, STAND_BY_S)
            except Exception:
                logger.exception("the summarizer lost the log; following it again in a second")
                await _wait(stopping, 1.0)
        await self._finish_calls()

    async def _lead(self, stopping: asyncio.Event) -> None:
        conn: Connection = await asyncio.to_thread(self._connect)
        try:
            self.scanned = self.position = await asyncio.to_thread(_position, conn)
            async with listening(self.conninfo, "podium summarizer appends") as appends:
                while not stopping.is_set():
                    while await asyncio.to_thread(self._read, conn):
                        pass
                    self._start_due_calls()
                    await asyncio.to_thread(self._save_position, conn)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(TICK_S):
                            await appends.wait()
        finally:
            await self._finish_calls()
            await asyncio.to_thread(conn.close)

    def _connect(self) -> Connection:
        return psycopg.connect(
            self.conninfo, autocommit=True, application_name="podium summarizer reads"
        )

    # --- reading the log ------------------------------------------------------------

    def _read(self, conn: Connection) -> int:
        """Take in the next page of the log; how many events it held."""
        events = read_events(conn, self.scanned, PAGE)
        if not events:
            return 0
        self._directory.learn(events)
        now = time.monotonic()
        with conn.cursor() as cur:
            for event in events:
                self._take_in(cur, event, now)
        self.scanned = events[-1].notification_id
        return len(events)

    def _take_in(self, cur: psycopg.Cursor[Any], event: RecordedEvent, now: float) -> None:
        p = event.payload
        if isinstance(p, EventSummarizedV1):
            self.backlog.done(p.session_id, p.notification_id)
        elif isinstance(p, ToolUseRequestedV1):
            if len(self._tool_inputs) >= KEEP_TOOL_INPUTS:
                self._tool_inputs.clear()  # a bound: results without one say so
            self._tool_inputs[p.tool_use_id] = p.input
        elif event.event_class in SUMMARIZED_EVENTS:
            who = self._directory.lookup(cur, event.stream_id)
            tool_input = None
            if isinstance(p, ToolUseCompletedV1):
                tool_input = self._tool_inputs.pop(p.tool_use_id, None)
            said = note(event.notification_id, who.name, p, tool_input)
            self.backlog.add(Waiting(who.session_id, event.stream_id, said, now))

    def _save_position(self, conn: Connection) -> None:
        position = self.backlog.low_water(self.scanned)
        if position != self.position:
            conn.execute(
                "INSERT INTO projection_tracking (projection, notification_id) VALUES (%s, %s) "
                "ON CONFLICT (projection) DO UPDATE SET notification_id = EXCLUDED.notification_id",
                (POSITION, position),
            )
            self.position = position

    # --- calling the model -----------------------------------------------------------

    def _start_due_calls(self) -> None:
        waiting = len(self.backlog)
        if not self._behind and waiting > self.settings.far_behind:
            self._behind = True
            logger.warning("summaries are %d events behind: catching up, newest first", waiting)
        elif self._behind and waiting <= self.settings.batch:
            self._behind = False
            logger.info("summaries have caught up")
        free = self.settings.concurrency - len(self._calls)
        for batch in self.backlog.due(time.monotonic(), self._behind, limit=free):
            task = asyncio.create_task(self._summarize(batch))
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)

    async def _summarize(self, batch: list[Waiting]) -> None:
        session_id = batch[0].session_id
        await self.rate.wait()
        try:
            answer = await self.model.summaries(
                request_body(self.settings.model, [w.note for w in batch])
            )
        except CallFailed as failure:
            error = str(failure)
            attempt = self.backlog.failures(session_id) + 1
            retry_in = backoff(attempt, failure.retry_after)
            self.backlog.failed(batch, retry_in, time.monotonic())
            logger.warning(
                "summarizing %d events failed (try %d, again in %.0f s): %s",
                len(batch),
                attempt,
                retry_in,
                failure,
            )
            try:
                await self._record(
                    session_id,
                    lambda s: s.failed(
                        error, events=len(batch), attempt=attempt, retry_in_s=retry_in
                    ),
                )
            except Exception:  # the batch is asked for again anyway: said, not raised
                logger.exception("recording the failure of %d summaries failed", len(batch))
            return
        except Exception:  # a bug, not the API's answer: said, and tried again
            logger.exception("summarizing %d events failed", len(batch))
            self.backlog.failed(batch, backoff(1), time.monotonic())
            return

        def record(summaries: Summaries) -> None:
            for waiting in batch:
                said = answer.summaries.get(waiting.note.id, "")
                with contextlib.suppress(ValueError):  # said nothing: asked again
                    summaries.summarize(waiting.note.id, waiting.agent_id, said)
            summaries.called(
                self.settings.model,
                answer.usage,
                events=len(batch),
                duration_ms=answer.duration_ms,
            )

        try:
            saved = await self._record(session_id, record)
        except Exception:  # the database went away: the summaries are asked for again
            logger.exception("saving %d summaries failed", len(batch))
            self.backlog.failed(batch, backoff(1), time.monotonic())
            return
        for waiting in batch:
            if waiting.note.id in saved.summarized:
                self.backlog.done(session_id, waiting.note.id)
        self.backlog.answered(batch)

    async def _record(self, session_id: UUID, decide: Any) -> Summaries:
        summaries = self._streams.get(session_id)
        if summaries is None:
            summaries = await asyncio.to_thread(_load, self.app, session_id)
        summaries, _ = await self.app.decide_async(summaries, decide)
        self._streams[session_id] = summaries
        return summaries

    async def _finish_calls(self) -> None:
        calls = list(self._calls)
        for task in calls:
            task.cancel()
        await asyncio.gather(*calls, return_exceptions=True)


@contextlib.asynccontextmanager
async def summarizing(
    app: Podium, conninfo: str, settings: SummarizerSettings, api: ApiSettings
) -> AsyncIterator[Summarizer]:
    """Run a summarizer on the API ``api`` says until the block ends."""
    async with MessagesApi(api) as model:
        summarizer = Summarizer(app, conninfo, model, settings)
        stopping = asyncio.Event()
        task = asyncio.create_task(summarizer.run(stopping), name="summarizer")
        try:
            yield summarizer
        finally:
            stopping.set()
            await task


def _load(app: Podium, session_id: UUID) -> Summaries:
    try:
        found: object = app.repository.get(summaries_id(session_id))
    except AggregateNotFoundError:
        return Summaries.open(session_id)
    assert isinstance(found, Summaries)
    return found


def _position(conn: Connection) -> int:
    row = conn.execute(
        "SELECT notification_id FROM projection_tracking WHERE projection = %s", (POSITION,)
    ).fetchone()
    return int(row[0]) if row else 0


async def _wait(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stopping.wait()
