"""GET /metrics end to end: a served podium, real PostgreSQL, the model double,
scraped over a real socket and read with prometheus_client's own parser."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from gateway.metrics_database import TOKEN_KINDS
from projections.read_models import NAMES
from tests.gateway_server import Served, serve_in_thread, until


class Scrape:
    """One /metrics page, parsed: its families' types and samples."""

    def __init__(self, text: str) -> None:
        families = list(text_string_to_metric_families(text))
        self.types = {family.name: family.type for family in families}
        self.samples: list[Sample] = [s for family in families for s in family.samples]

    def value(self, name: str, **labels: str) -> float | None:
        for sample in self.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                return sample.value
        return None

    def labelled(self, name: str, label: str) -> dict[str, float]:
        return {s.labels[label]: s.value for s in self.samples if s.name == name}


def scrape(client: httpx.Client) -> Scrape:
    page = client.get("/metrics")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape(page.text)


@pytest.fixture
def worked(client: httpx.Client) -> str:
    """A session whose agent ada did one task through the double; its id."""
    session = client.post("/api/sessions", json={"title": "metrics"}).json()["session_id"]
    assert client.post(f"/api/sessions/{session}/agents", json={"name": "ada"}).status_code == 201
    sent = client.post(f"/api/sessions/{session}/agents/ada/commands", json={"command": "note"})
    assert sent.status_code == 202, sent.text

    def ada_done() -> bool:
        (ada,) = client.get(f"/api/sessions/{session}/agents").json()["agents"]
        return bool(ada["turns"] == 1 and ada["status"] == "idle")

    until(ada_done)
    return str(session)


def test_the_page_parses_and_says_what_happened(client: httpx.Client, worked: str) -> None:

    def caught_up() -> Scrape | None:  # the read models trail the log
        page = scrape(client)
        lags = page.labelled("podium_projection_lag_events", "projection")
        return page if not any(lags.get(name, 1) for name in NAMES) else None

    page = until(caught_up)
    assert page.types["podium_events"] == "counter"
    assert page.types["podium_append_seconds"] == "histogram"
    for kind in (("session", "SessionStarted"), ("agent", "AgentCreated")):
        assert (page.value("podium_events_total", stream=kind[0], type=kind[1]) or 0) >= 1, kind
    assert (page.value("podium_events_total", stream="agent", type="TurnCompleted") or 0) >= 1
    head = page.value("podium_log_head")
    assert head and page.value("podium_events_counted_through") == head
    assert (page.value("podium_append_group_events_count") or 0) >= 1
    assert (page.value("podium_append_seconds_count") or 0) >= 1
    assert set(NAMES) <= set(page.labelled("podium_projection_lag_events", "projection"))
    assert page.labelled("podium_projection_lag_seconds", "projection")["costs"] == 0
    assert page.value("podium_agents", status="idle") == 1
    assert (page.value("podium_turns_total", actor="agent") or 0) >= 1
    assert set(page.labelled("podium_tokens_total", "kind")) == set(TOKEN_KINDS)
    assert (page.value("podium_tokens_total", kind="output") or 0) > 0
    assert page.value("podium_cost_usd_total") is not None
    assert page.value("podium_approvals_pending") == 0
    assert page.value("podium_runtime_leader") == 1  # podium up's runtime leads
    assert set(page.labelled("podium_metrics_errors", "source").values()) == {0}


def test_open_streams_are_counted(client: httpx.Client, served: Served) -> None:
    with client.stream("GET", "/api/stream") as stream:
        lines = stream.iter_lines()  # kept: dropped, it would close the stream
        assert next(lines) == "retry: 2000"
        assert (scrape(client).value("podium_open_streams", kind="sse") or 0) >= 1


def test_a_source_that_cannot_answer_in_time_is_an_error_gauge_not_a_500(
    client: httpx.Client, served: Served
) -> None:
    with psycopg.connect(served.conninfo) as holder:
        holder.execute("LOCK TABLE approvals IN ACCESS EXCLUSIVE MODE")  # until rollback
        page = scrape(client)
        holder.rollback()
    assert page.value("podium_metrics_errors", source="approvals") == 1
    assert page.value("podium_approvals_pending") is None
    assert page.value("podium_metrics_errors", source="agents") == 0
    assert page.value("podium_log_head") is not None  # the rest is there


TOKEN = secrets.token_urlsafe(24)


@pytest.fixture
def guarded(database_url: str, tmp_path: Path) -> Iterator[Served]:
    with serve_in_thread(database_url, tmp_path, token=TOKEN) as running:
        yield running


def test_in_token_mode_the_page_needs_the_token(guarded: Served) -> None:
    with httpx.Client(base_url=guarded.url, timeout=30) as stranger:
        refused = stranger.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=guarded.url, timeout=30, headers=bearer) as prometheus:
        assert scrape(prometheus).value("podium_runtime_leader") == 1
