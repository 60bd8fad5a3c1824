"""The figures of /metrics, without a database: families from rows as the
queries return them, the group commit's instruments, the open streams' count."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from decimal import Decimal
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.websockets import WebSocket

from eventlog.group_commit import GroupCommitRecorder
from gateway import metrics_database as m
from gateway.metrics import counted_sse, counted_websocket


class _Families:
    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


def samples(families: Iterable[Metric]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The families as a scraper reads them: exposed, then parsed."""
    text = generate_latest(_Families(families)).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_topic_is_labelled_by_its_stream_and_event_type() -> None:
    assert m.event_labels("domain.agent:TurnCompleted") == ("agent", "TurnCompleted")


def test_lag_in_events_and_seconds_is_zero_once_caught_up() -> None:
    found = samples(m._lag_families([("agents", 0, 0), ("costs", 3, Decimal("1.5"))]))
    assert found[("podium_projection_lag_events", (("projection", "agents"),))] == 0
    assert found[("podium_projection_lag_events", (("projection", "costs"),))] == 3
    assert found[("podium_projection_lag_seconds", (("projection", "costs"),))] == 1.5
    assert found[("podium_projection_lag_seconds", (("projection", "agents"),))] == 0


def test_tokens_and_usd_add_up_per_model_across_actors() -> None:
    rows = [
        ("agent", "haiku", 2, 10, 20, 30, 5, 40, Decimal("0.5")),
        ("orchestrator", "haiku", 1, 1, 2, 3, 0, 4, Decimal("0.25")),
    ]
    found = samples(m._cost_families(rows))
    assert found[("podium_turns_total", (("actor", "agent"), ("model", "haiku")))] == 2
    assert found[("podium_tokens_total", (("kind", "cache_read"), ("model", "haiku")))] == 44
    assert found[("podium_tokens_total", (("kind", "input"), ("model", "haiku")))] == 11
    assert found[("podium_tokens_total", (("kind", "cache_write_1h"), ("model", "haiku")))] == 5
    assert found[("podium_cost_usd_total", (("model", "haiku"),))] == 0.75


def test_agents_are_counted_by_status() -> None:
    found = samples(m._agent_families([("idle", 2), ("working", 1)]))
    assert found[("podium_agents", (("status", "working"),))] == 1


def _sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_a_group_commit_is_observed_once_with_its_events() -> None:
    before = _sample("podium_append_group_events_count")
    events_before = _sample("podium_append_group_events_sum")
    recorder = GroupCommitRecorder(POPOApplicationRecorder())
    try:
        stream = uuid4()
        recorder.insert_events(
            [StoredEvent(stream, version, "tests:Nothing", b"{}") for version in (1, 2, 3)]
        )
    finally:
        recorder.close()
    assert _sample("podium_append_group_events_count") == before + 1
    assert _sample("podium_append_group_events_sum") == events_before + 3
    assert _sample("podium_append_seconds_count") >= 1


def test_an_sse_stream_is_counted_while_it_is_sent() -> None:
    async def stream(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"one"
            yield b"two"

        return StreamingResponse(body())

    def open_streams() -> float:
        return _sample("podium_open_streams", kind="sse")

    async def scenario() -> list[float]:
        response = await counted_sse(stream)(Request({"type": "http", "headers": []}))
        seen = [open_streams()]
        chunks = response.body_iterator
        assert isinstance(chunks, AsyncGenerator)
        await chunks.__anext__()
        seen.append(open_streams())
        await chunks.aclose()  # the client went
        seen.append(open_streams())
        return seen

    start = open_streams()
    assert asyncio.run(scenario()) == [start, start + 1, start]
    assert counted_sse(stream).__name__ == "stream"  # the route keeps its name


def test_a_websocket_stream_is_counted_while_it_is_open() -> None:
    seen: list[float] = []

    async def stream(websocket: WebSocket) -> None:
        seen.append(_sample("podium_open_streams", kind="websocket"))

    counted = counted_websocket(stream)
    start = _sample("podium_open_streams", kind="websocket")
    socket = WebSocket({"type": "websocket", "headers": []}, _nothing, _nothing)

    async def scenario() -> None:
        await counted(socket)

    asyncio.run(scenario())
    assert seen == [start + 1]
    assert _sample("podium_open_streams", kind="websocket") == start


async def _nothing(*args: object) -> Any:
    raise AssertionError("the stream neither receives nor sends here")
