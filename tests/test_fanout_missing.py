"""No viewer ever misses an event (issue 12, finding 13).

``bench/fanout.py`` once reported 112 missing deliveries under load. The
misses were the bench's own: it counted a viewer as subscribed once its
request was written, and under load podium subscribed some viewers only
after the first appends, which a stream opened without ``Last-Event-ID``
rightly does not carry. The bench now starts every viewer after a known id
and checks it against the store. What podium promises, and what these
tests hold it to: a viewer gets every stored event its filter selects after
its starting point, once, in order, whatever the interleaving of feed
batches, partial text, the tail's capacity and the viewer's own pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventlog.postgres import open_podium
from gateway.live_events import Delta, LiveEvents, LogBatch
from gateway.stream import Frames, StreamFilter, events_for
from projections.event_view import LogView, Routed

SESSIONS = 2
EVENTS_PER_SESSION = 12


@dataclass(frozen=True)
class Log:
    stored: list[Routed]
    sessions: list[str]


@pytest.fixture
def pages(database_url: str) -> Iterator[LogView]:
    with LogView(database_url) as view:
        yield view


@pytest.fixture
def log(database_url: str, pages: LogView) -> Log:
    """Two sessions' events, interleaved in the log."""
    app = open_podium(database_url)
    try:
        sessions = [app.start_session(f"s{n}", "/tmp").id for n in range(SESSIONS)]
        for n, session_id in itertools.product(range(EVENTS_PER_SESSION), sessions):
            app.write_system_log("info", f"entry {n}", session_id=session_id)
    finally:
        app.close()
    return Log(pages.page_after(0), [str(s) for s in sessions])


@dataclass(frozen=True)
class ViewerPlan:
    joins_before: int  # the feed batch before which the viewer opens its stream
    resume_at: int | None  # index into the log of its Last-Event-ID; None: live from now
    session: int | None  # which session it filters on; None: everything
    pace_ms: int  # how long it takes over each write


viewer_plans = st.builds(
    ViewerPlan,
    joins_before=st.integers(0, 8),
    resume_at=st.none() | st.integers(0, SESSIONS * (EVENTS_PER_SESSION + 1) - 1),
    session=st.none() | st.integers(0, SESSIONS - 1),
    pace_ms=st.integers(0, 3),
)


async def _watch(
    viewer: AsyncIterator[Frames], wanted: StreamFilter, pace_ms: int, into: list[int]
) -> None:
    async for frames in viewer:
        for frame in frames or []:
            if isinstance(frame, LogBatch):
                into += [item.id for item in frame.wanted(wanted.key)]
        await asyncio.sleep(pace_ms / 1000)


async def _fan_out(
    log: Log,
    pages: LogView,
    capacity: int,
    batch_sizes: list[int],
    plans: list[ViewerPlan],
) -> list[tuple[list[int], list[int]]]:
    """Feed the log into a live tail in batches while the planned viewers come and
    read; each viewer's (expected, received) ids."""
    tail = LiveEvents(capacity_bytes=capacity)
    cuts = [0, *itertools.accumulate(batch_sizes), len(log.stored)]  # the rest, last
    batches = [log.stored[a:b] for a, b in itertools.pairwise(cuts) if a < min(b, len(log.stored))]
    viewers: list[tuple[int, StreamFilter, list[int], asyncio.Task[None]]] = []

    async def open_stream(plan: ViewerPlan) -> None:
        session = None if plan.session is None else log.sessions[plan.session]
        after = None if plan.resume_at is None else log.stored[plan.resume_at].id
        wanted = StreamFilter(session, None, None, after)
        received: list[int] = []
        task = asyncio.create_task(
            _watch(events_for(tail, pages, wanted), wanted, plan.pace_ms, received)
        )
        await asyncio.sleep(0)  # it takes its place in the tail
        viewers.append((tail.last_id if after is None else after, wanted, received, task))

    for n, batch in enumerate([*batches, []]):
        for plan in plans:
            if min(plan.joins_before, len(batches)) == n:
                await open_stream(plan)
        if batch:
            tail.append_events(batch)
            tail.append_delta(Delta(log.sessions[0], "", b'{"kind":"agent_text_delta"}'))
        await asyncio.sleep(0.001 * (n % 3))

    results = []
    for start, wanted, received, task in viewers:
        expected = [
            item.id
            for item in log.stored
            if item.id > start and item.matches(wanted.session, None, None)
        ]
        with contextlib.suppress(TimeoutError):  # the comparison says what is missing
            async with asyncio.timeout(3):
                while len(received) < len(expected):
                    await asyncio.sleep(0.005)
        await asyncio.sleep(0.01)  # anything extra would have come by now
        task.cancel()
        results.append((expected, received))
    return results


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    capacity=st.sampled_from([1, 600, 2_000, 1 << 20]),
    batch_sizes=st.lists(st.integers(1, 9), min_size=1, max_size=12),
    plans=st.lists(viewer_plans, min_size=1, max_size=5),
)
def test_every_viewer_gets_every_event_after_its_start_once_in_order(
    log: Log, pages: LogView, capacity: int, batch_sizes: list[int], plans: list[ViewerPlan]
) -> None:
    results = asyncio.run(_fan_out(log, pages, capacity, batch_sizes, plans))
    for expected, received in results:
        assert received == expected


def test_a_viewer_resuming_behind_the_feed_gets_what_the_feed_sent_before_it_came(
    log: Log, pages: LogView
) -> None:
    """The bench's case: the events are already in the tail when the viewer's
    stream is opened, with the id it last had."""

    async def scenario() -> tuple[list[int], list[int]]:
        tail = LiveEvents()
        tail.append_events(log.stored)  # fed before the viewer was subscribed
        start = log.stored[2].id
        wanted = StreamFilter(log.sessions[1], None, None, start)
        received: list[int] = []
        task = asyncio.create_task(_watch(events_for(tail, pages, wanted), wanted, 0, received))
        expected = [i.id for i in log.stored if i.id > start and i.session_id == log.sessions[1]]
        async with asyncio.timeout(10):
            while len(received) < len(expected):
                await asyncio.sleep(0.005)
        task.cancel()
        return expected, received

    expected, received = asyncio.run(scenario())
    assert received == expected
