"""``GET /metrics``: podium in Prometheus' text format.

Two kinds of figures, one page. This process's own instruments, in
prometheus_client's default registry: appends (eventlog/metrics.py), the
streams this gateway holds open, and the library's process and Python
collectors. And what the database says, read at each scrape
(gateway/metrics_database.py): events by type, every tracked consumer's lag,
agents, turns, tokens, costs, approvals, the runtime's leader lock. The page
goes through the same edge checks and token as the API.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

from prometheus_client import REGISTRY, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket

from gateway.metrics_database import DatabaseMetrics

OPEN_STREAMS = Gauge(
    "podium_open_streams",
    "Live streams of the log this gateway holds open, by kind",
    ["kind"],
)


def counted_sse(
    handler: Callable[[Request], Awaitable[StreamingResponse]],
) -> Callable[[Request], Awaitable[StreamingResponse]]:
    """``handler``'s Server-Sent Events, counted in podium_open_streams while sent."""
    streams = OPEN_STREAMS.labels("sse")

    @functools.wraps(handler)
    async def counted(request: Request) -> StreamingResponse:
        response = await handler(request)
        body = response.body_iterator

        async def sending() -> AsyncIterator[str | bytes | memoryview]:
            # Entered at the first write, left when the client goes (cancelled).
            with streams.track_inprogress():
                async for chunk in body:
                    yield chunk

        response.body_iterator = sending()
        return response

    return counted


def counted_websocket(
    handler: Callable[[WebSocket], Awaitable[None]],
) -> Callable[[WebSocket], Awaitable[None]]:
    """``handler``'s WebSocket streams, counted in podium_open_streams while open."""
    streams = OPEN_STREAMS.labels("websocket")

    @functools.wraps(handler)
    async def counted(websocket: WebSocket) -> None:
        with streams.track_inprogress():
            await handler(websocket)

    return counted


class _Scrape:
    """One scrape as a collector: the process's registry, then the database's families."""

    def __init__(self, read: list[Metric]) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        yield from REGISTRY.collect()
        yield from self.read


class MetricsPage:
    """The ``/metrics`` endpoint on the gateway's read-model pool."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.database = DatabaseMetrics(pool)

    async def metrics(self, request: Request) -> Response:
        page = generate_latest(_Scrape(await self.database.families()))
        return Response(page, media_type=CONTENT_TYPE_PLAIN_0_0_4)
