"""The log as a stream: Server-Sent Events and WebSocket.

The SSE ``id`` is the notification id. A client reconnecting with
``Last-Event-ID`` (or ``?after=``) first gets what it missed, read from the
store, then the live feed, skipping what the backlog already sent: no gap,
no duplicate. Filters: session, agent, category. Heartbeats keep proxies
from closing an idle stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from uuid import UUID

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from domain.names import AGENT_NAME
from domain.vocabulary import Category
from gateway.live_events import Delta, Entry, FilterKey, LiveEvents, LogBatch
from gateway.params import NOTIFICATION_ID_MAX, choice_param, given, shown, whole_number
from gateway.problems import Problem
from projections.event_view import LogView

HEARTBEAT_SECONDS = 15.0


@dataclass(frozen=True)
class StreamFilter:
    session: str | None
    agent: str | None
    category: str | None
    after: int | None

    @property
    def key(self) -> FilterKey:
        """What decides which events pass: viewers with the same key share encodings."""
        return (self.session, self.agent.lower() if self.agent else None, self.category)

    def wants_delta(self, delta: Delta) -> bool:
        return self.category is None and (self.session is None or delta.session_id == self.session)


def stream_filter(params: Mapping[str, str], last_event_id: str | None) -> StreamFilter:
    """Validated filters: a bad value is a 4xx problem, not a silent empty stream."""
    session = given(params, "session")
    if session is not None:
        try:
            session = str(UUID(session))
        except ValueError:
            raise Problem(
                422, f"session must be a session id (a UUID), not {shown(session)}"
            ) from None
    agent = given(params, "agent")
    if agent is not None and not AGENT_NAME.fullmatch(agent):
        raise Problem(422, f"agent must be an agent name, not {shown(agent)}")
    category = choice_param(params, "category", tuple(Category))
    resume = last_event_id or given(params, "after")
    after = None
    if resume is not None:
        after = whole_number(resume, "Last-Event-ID/after", 0, NOTIFICATION_ID_MAX)
    return StreamFilter(session, agent, category, after)


Frames = list[Entry] | None  # None: time for a heartbeat


async def events_for(
    tail: LiveEvents, log_view: LogView, wanted: StreamFilter
) -> AsyncIterator[Frames]:
    """What a viewer should get, in order: its backlog from the store, then the
    live tail, as much of it at a time as has arrived since the last write.

    ``position`` is the last notification id the viewer has been given (or
    skipped by its filter): the live tail's events are sent past it only.
    Falling off the end of the tail is caught up from the store, like a
    backlog, so nothing is missed whatever the viewer's pace.
    """
    cursor = tail.cursor  # first, so nothing appended from now on can be missed
    position = wanted.after if wanted.after is not None else tail.last_id
    behind = wanted.after is not None  # a backlog is caught up like a fall behind the tail
    while True:
        if behind:
            # The tail from here on, plus the store up to its end, cover everything.
            cursor, behind = tail.cursor, False
            async for batch in _stored_after(log_view, position):
                yield [batch]
                position = batch.last_id
        entries = tail.since(cursor)
        if entries is None:  # fell behind what the tail keeps
            behind = True
            continue
        if not entries:
            if not await tail.wait(cursor, HEARTBEAT_SECONDS):
                yield None
            continue
        cursor += len(entries)
        frames: list[Entry] = []
        for entry in entries:
            if isinstance(entry, Delta):
                if wanted.wants_delta(entry):
                    frames.append(entry)
            elif (fresh := entry.after(position)) is not None:
                frames.append(fresh)
                position = fresh.last_id
        if frames:
            yield frames


async def _stored_after(log_view: LogView, position: int) -> AsyncIterator[LogBatch]:
    """The stored events after ``position``, a page at a time, up to the log's end."""
    while page := await asyncio.to_thread(log_view.page_after, position):
        batch = LogBatch(tuple(page))
        yield batch
        position = batch.last_id


def sse_chunk(frames: Frames, key: FilterKey) -> bytes:
    if frames is None:
        return b": ping\n\n"
    return b"".join(frame.sse if isinstance(frame, Delta) else frame.sse(key) for frame in frames)


def sse_response(request: Request, tail: LiveEvents, log_view: LogView) -> StreamingResponse:
    wanted = stream_filter(request.query_params, request.headers.get("last-event-id"))

    async def body() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        async for frames in events_for(tail, log_view, wanted):
            if chunk := sse_chunk(frames, wanted.key):
                yield chunk

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def websocket_stream(websocket: WebSocket, tail: LiveEvents, log_view: LogView) -> None:
    try:
        wanted = stream_filter(websocket.query_params, None)
    except Problem as problem:
        await websocket.close(code=1008, reason=problem.detail[:120])
        return
    await websocket.accept()
    # The client sends nothing, but its close arrives as a message: wait for it
    # beside the events, or a closed socket would linger until the next heartbeat
    # (and hold up a shutdown that long).
    sending = asyncio.create_task(_send_events(websocket, tail, log_view, wanted))
    closed = asyncio.create_task(_closed_by_client(websocket))
    try:
        await asyncio.wait((sending, closed), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sending, closed):
            task.cancel()
        await asyncio.gather(sending, closed, return_exceptions=True)


async def _send_events(
    websocket: WebSocket, tail: LiveEvents, log_view: LogView, wanted: StreamFilter
) -> None:
    try:
        async for frames in events_for(tail, log_view, wanted):
            if frames is None:
                await websocket.send_text('{"kind":"ping"}')
                continue
            for frame in frames:
                items = [frame] if isinstance(frame, Delta) else frame.wanted(wanted.key)
                for item in items:
                    await websocket.send_text(item.body.decode())
    except WebSocketDisconnect:
        return


async def _closed_by_client(websocket: WebSocket) -> None:
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass  # what a client sends means nothing to the stream
