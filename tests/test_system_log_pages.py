"""GET /api/system-logs pages newest first too (?before=), as the UI's system log
panel reads it; oldest first (?after=) is as it was. A real gateway on real
PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.params import NOTIFICATION_ID_MAX
from tests.gateway_server import Served, until

LEVELS = ["info", "warning", "error", "info", "warning", "error", "info"]


def _entries(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every entry the paging gives, following its cursor page by page."""
    found: list[dict[str, Any]] = []
    cursor = "next_before" if "before" in params else "next_after"
    while True:
        page = client.get("/api/system-logs", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        found += body["items"]
        if body.get(cursor) is None:
            return found
        params = {**params, cursor.removeprefix("next_"): body[cursor]}


def _written(served: Served, client: httpx.Client) -> list[dict[str, Any]]:
    """This test's entries, once the read model holds them all: oldest first."""
    for n, level in enumerate(LEVELS):
        served.app.write_system_log(level, f"paging test {n}")

    def projected() -> list[dict[str, Any]] | None:
        ours = [e for e in _entries(client) if e["message"].startswith("paging test")]
        return ours if len(ours) == len(LEVELS) else None

    return until(projected)


def test_newest_first_pages_below_before_and_say_where_the_next_one_starts(
    served: Served, client: httpx.Client
) -> None:
    ours = _written(served, client)
    oldest_first = _entries(client)
    assert oldest_first[-len(LEVELS) :] == ours

    newest = client.get("/api/system-logs", params={"before": NOTIFICATION_ID_MAX, "limit": 3})
    body = newest.json()
    assert [e["message"] for e in body["items"]] == [f"paging test {n}" for n in (6, 5, 4)]
    assert body["next_before"] == body["items"][-1]["notification_id"]
    assert "next_after" not in body
    assert body["head"] >= ours[-1]["notification_id"]  # every entry up to head is in

    # Page by page down to the first entry: the same entries, newest first, each once.
    paged = _entries(client, before=NOTIFICATION_ID_MAX, limit=3)
    assert paged == oldest_first[::-1]

    # Below an entry: only older ones; between after and before: only those between.
    below = _entries(client, before=ours[3]["notification_id"], limit=2)
    assert below == oldest_first[::-1][len(LEVELS) - 3 :]
    between = _entries(
        client, after=ours[1]["notification_id"], before=ours[5]["notification_id"], limit=2
    )
    assert between == ours[2:5][::-1]

    # The level filter holds for either order.
    warnings = _entries(client, before=NOTIFICATION_ID_MAX, level="warning", limit=1)
    assert [e["message"] for e in warnings if e["message"].startswith("paging")] == [
        "paging test 4",
        "paging test 1",
    ]
    assert all(e["level"] == "warning" for e in warnings)


def test_oldest_first_is_as_it_was_and_a_bad_before_is_a_problem(
    served: Served, client: httpx.Client
) -> None:
    ours = _written(served, client)
    first = client.get("/api/system-logs", params={"after": 0, "limit": 1}).json()
    assert first["next_after"] == first["items"][0]["notification_id"]
    assert "next_before" not in first and first["head"] >= ours[-1]["notification_id"]
    assert client.get("/api/system-logs", params={"before": 0}).json()["items"] == []
    for bad in ("-1", "abc", str(NOTIFICATION_ID_MAX + 1)):
        refused = client.get("/api/system-logs", params={"before": bad})
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"] == "application/problem+json"
        assert "before" in refused.json()["detail"]
