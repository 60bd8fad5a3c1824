"""The live tail: what open streams read, with no gap and no duplicate whatever
their pace, and the partial text relayed from the broadcaster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from broadcaster import Broadcast

from eventlog.postgres import open_podium
from gateway.broadcast import BroadcastDeltas, encode_batch, log_channel, relaying
from gateway.live_events import Delta, LiveEvents, LogBatch
from gateway.stream import Frames, StreamFilter, events_for, sse_chunk
from projections.event_view import LogView

pytestmark = pytest.mark.anyio


def _ids(frames: Frames) -> list[int]:
    return [
        item.id for frame in frames or [] if isinstance(frame, LogBatch) for item in frame.items
    ]


async def _next(viewer: AsyncIterator[Frames]) -> Frames:
    return await asyncio.wait_for(anext(viewer), timeout=10)


@pytest.fixture
def pages(database_url: str) -> Iterator[LogView]:
    with LogView(database_url) as view:
        yield view


def _session_with_log_entries(conninfo: str, saves: int) -> str:
    app = open_podium(conninfo)
    try:
        session = app.start_session("tail", "/tmp")
        for n in range(saves):
            app.write_system_log("info", f"entry {n}", session_id=session.id)
        return str(session.id)
    finally:
        app.close()


async def test_a_viewer_that_falls_behind_the_tail_catches_up_from_the_store(
    database_url: str, pages: LogView
) -> None:
    _session_with_log_entries(database_url, saves=6)
    stored = pages.page_after(0)
    everything = [item.id for item in stored]
    tail = LiveEvents(capacity_bytes=1)  # keeps only the newest entry
    viewer = events_for(tail, pages, StreamFilter(None, None, None, None))
    waiting = asyncio.ensure_future(_next(viewer))
    await asyncio.sleep(0.05)  # the viewer is at the tail's end, waiting
    for start in range(0, len(stored), 2):  # three batches arrive before it runs again
        tail.append_events(stored[start : start + 2])
    received = _ids(await waiting)
    while len(received) < len(everything):
        received += _ids(await _next(viewer))
    assert received == everything


async def test_live_batches_skip_what_the_backlog_already_sent(
    database_url: str, pages: LogView
) -> None:
    _session_with_log_entries(database_url, saves=3)
    stored = pages.page_after(0)
    tail = LiveEvents()
    # The feed is behind the store: the live batch repeats events the backlog has.
    resume_at = stored[0].id
    viewer = events_for(tail, pages, StreamFilter(None, None, None, resume_at))
    backlog = _ids(await _next(viewer))
    assert backlog == [item.id for item in stored[1:]]
    tail.append_events(stored)
    tail.append_delta(Delta("", "", b'{"kind":"agent_text_delta"}'))
    frames = await _next(viewer)  # the delta alone: the batch held nothing new
    assert frames is not None and _ids(frames) == [] and isinstance(frames[0], Delta)


async def test_viewers_with_the_same_filter_share_one_encoding(
    database_url: str, pages: LogView
) -> None:
    session = _session_with_log_entries(database_url, saves=2)
    tail = LiveEvents()
    wanted = StreamFilter(session, None, None, None)
    viewers = [events_for(tail, pages, wanted) for _ in range(2)]
    waiting = [asyncio.ensure_future(_next(v)) for v in viewers]
    await asyncio.sleep(0.05)
    tail.append_events(pages.page_after(0))
    first, second = [await w for w in waiting]
    chunk = sse_chunk(first, wanted.key)
    assert chunk is sse_chunk(second, wanted.key)
    assert chunk.count(b"event: event\n") == 3  # SessionStarted and two log entries


async def test_partial_text_travels_through_the_broadcaster_as_json(pages: LogView) -> None:
    tail = LiveEvents()
    async with Broadcast("memory://") as broadcast, relaying(broadcast, tail, log_channel()):
        wanted = StreamFilter("s-1", None, None, None)
        viewer = events_for(tail, pages, wanted)
        waiting = asyncio.ensure_future(_next(viewer))
        await asyncio.sleep(0.05)
        deltas = BroadcastDeltas(broadcast)
        deltas.publish("orchestrator_text_delta", {"session_id": "s-2", "text": "elsewhere"})
        deltas.publish("orchestrator_text_delta", {"session_id": "s-1", "text": "Hel"})
        frames = await waiting
    assert frames is not None
    assert sse_chunk(frames, wanted.key) == (
        b'event: delta\ndata: {"kind":"orchestrator_text_delta",'
        b'"session_id":"s-1","text":"Hel"}\n\n'
    )


async def test_new_events_travel_through_the_broadcaster_as_json(
    database_url: str, pages: LogView
) -> None:
    _session_with_log_entries(database_url, saves=2)
    stored = pages.page_after(0)
    tail = LiveEvents()
    channel = log_channel()
    async with Broadcast("memory://") as broadcast, relaying(broadcast, tail, channel):
        viewer = events_for(tail, pages, StreamFilter(None, None, None, None))
        waiting = asyncio.ensure_future(_next(viewer))
        await asyncio.sleep(0.05)
        await broadcast.publish(channel, encode_batch(stored))
        frames = await waiting
    (batch,) = frames or []
    assert isinstance(batch, LogBatch)
    assert batch.items == tuple(stored)  # ids, routing and each event's JSON, unchanged
