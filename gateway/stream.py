"""The log as a stream: Server-Sent Events and WebSocket.

The SSE ``id`` is the notification id. A client reconnecting with
``Last-Event-ID`` (or ``?after=``) first gets what it missed, read from the
store, then the live feed, skipping what the backlog already sent: no gap,
no duplicate. Filters: session, agent, category. Heartbeats keep proxies
from closing an idle stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast
from uuid import UUID

from broadcaster import Broadcast
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from domain.names import AGENT_NAME
from gateway.event_json import Routed
from gateway.feed import CHANNEL, Delta, read_routed
from gateway.problems import Problem

HEARTBEAT_SECONDS = 15.0
CATEGORIES = {
    "message",
    "thinking",
    "tool",
    "hook",
    "file",
    "result",
    "lifecycle",
    "chat",
    "system",
}


@dataclass(frozen=True)
class StreamFilter:
    session: str | None
    agent: str | None
    category: str | None
    after: int | None

    def wants(self, item: Routed | Delta) -> bool:
        if isinstance(item, Delta):
            return self.category is None and (
                self.session is None or item.session_id == self.session
            )
        return item.matches(self.session, self.agent, self.category)


def stream_filter(params: dict[str, str], last_event_id: str | None) -> StreamFilter:
    """Validated filters: a bad value is a 4xx problem, not a silent empty stream."""
    session = params.get("session")
    if session is not None:
        try:
            session = str(UUID(session))
        except ValueError:
            raise Problem(422, f"session must be a session id (a UUID), not {session!r}") from None
    agent = params.get("agent")
    if agent is not None and not AGENT_NAME.fullmatch(agent):
        raise Problem(422, f"agent must be an agent name, not {agent!r}")
    category = params.get("category")
    if category is not None and category not in CATEGORIES:
        raise Problem(422, f"category must be one of {', '.join(sorted(CATEGORIES))}")
    resume = last_event_id or params.get("after")
    after = None
    if resume is not None:
        if not resume.isdigit():
            raise Problem(422, f"Last-Event-ID/after must be a notification id, not {resume!r}")
        after = int(resume)
    return StreamFilter(session, agent, category, after)


Item = Routed | Delta
Frames = list[Item] | None  # None: time for a heartbeat


async def events_for(
    broadcast: Broadcast, conninfo: str, wanted: StreamFilter
) -> AsyncIterator[Frames]:
    """What a viewer should get, in order, a batch at a time."""
    async with broadcast.subscribe(CHANNEL) as live:
        sent = wanted.after
        if sent is not None:
            # Subscribed first, so nothing published from now on can be missed.
            while batch := await asyncio.to_thread(read_routed, conninfo, sent):
                yield [item for item in batch if wanted.wants(item)]
                sent = batch[-1].id
        while True:
            try:
                async with asyncio.timeout(HEARTBEAT_SECONDS):
                    # The in-process broadcaster hands over the objects published.
                    message = cast("tuple[Routed, ...] | Delta", (await live.get()).message)
            except TimeoutError:
                yield None
                continue
            if isinstance(message, Delta):
                if wanted.wants(message):
                    yield [message]
                continue
            fresh = [r for r in message if sent is None or r.id > sent]  # backlog had the rest
            if fresh:
                sent = fresh[-1].id
                yield [r for r in fresh if wanted.wants(r)]


def sse_frame(item: Item) -> bytes:
    if isinstance(item, Delta):
        return b"event: delta\ndata: " + item.body + b"\n\n"
    return b"id: %d\nevent: event\ndata: " % item.id + item.body + b"\n\n"


def sse_chunk(frames: Frames) -> bytes:
    if frames is None:
        return b": ping\n\n"
    return b"".join(sse_frame(item) for item in frames)


def sse_response(request: Request, broadcast: Broadcast, conninfo: str) -> StreamingResponse:
    wanted = stream_filter(dict(request.query_params), request.headers.get("last-event-id"))

    async def body() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        async for frames in events_for(broadcast, conninfo, wanted):
            if frames != []:
                yield sse_chunk(frames)

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def websocket_stream(websocket: WebSocket, broadcast: Broadcast, conninfo: str) -> None:
    try:
        wanted = stream_filter(dict(websocket.query_params), None)
    except Problem as problem:
        await websocket.close(code=1008, reason=problem.detail[:120])
        return
    await websocket.accept()
    try:
        async for frames in events_for(broadcast, conninfo, wanted):
            if frames is None:
                await websocket.send_text('{"kind":"ping"}')
                continue
            for item in frames:
                await websocket.send_text(item.body.decode())
    except WebSocketDisconnect:
        return
