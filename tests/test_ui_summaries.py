"""The UI's AI summaries, file changes and system log panel, in real Chromium.

The summarizer podium runs (the model double answering it, failing once on
purpose) summarizes an agent's events: the stream, the agent cards and the
header show its summaries and spend as of any moment of replay. The system log panel pages podium's
own log newest first, by level, and follows it live.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import httpx

from domain.summarizer import SUMMARIZED_EVENTS
from domain.vocabulary import Level
from gateway.params import NOTIFICATION_ID_MAX
from tests import test_ui
from tests.gateway_server import Served, until
from tests.test_ui import all_events, expect, tokens, usd

browser = test_ui.browser
page = test_ui.page  # a fresh tab; any script error on it fails the test

SUMMARIZED = {kind.__name__ for kind in SUMMARIZED_EVENTS}
BIG = "--- /dev/null\n+++ b/big.txt\n" + "".join(f"+line {n}\n" for n in range(12_000))


def _row(page: Any, event: dict[str, Any]) -> Any:
    return page.locator(f'.row[data-id="{event["id"]}"]')


def _summarized(served: Served, client: httpx.Client, session: str) -> list[dict[str, Any]]:
    """The session's events once the summarizer has summarized every one it takes,
    failed once and called again, and nothing more arrives."""

    def done() -> list[dict[str, Any]] | None:
        found = all_events(client, session)
        wanted = {e["id"] for e in found if e["type"] in SUMMARIZED}
        made = {e["payload"]["notification_id"] for e in found if e["type"] == "EventSummarized"}
        kinds = [e["type"] for e in found]
        calls = [i for i, kind in enumerate(kinds) if kind == "SummarizerCalled"]
        retried = "SummarizerFailed" in kinds and calls[-1:] > [kinds.index("SummarizerFailed")]
        return found if wanted and wanted <= made and retried else None

    until(lambda: client.get(f"/api/sessions/{session}").status_code == 200)  # its read model
    events = until(done)
    while True:
        time.sleep(1.0)
        again = all_events(client, session)
        if len(again) == len(events):
            return events
        events = again


def test_summaries_and_file_changes_show_in_the_stream_cards_and_header_at_any_moment(
    served: Served, client: httpx.Client, page: Any
) -> None:
    double = served.running.system.double
    assert double is not None
    double.fail_next(status=529, times=1, of="summaries")  # its first call fails, then works
    app = served.app
    started = app.start_session("summaries", str(served.cwd))
    session = str(started.id)
    agent = app.create_agent(started.id, "alice")
    agent.request_tool_use("t1", "Bash", {"command": "mv a.py b.py"})
    agent.record_file_change(
        "b.py", "renamed", "", tool="Bash", tool_use_id="t1", previous_path="a.py"
    )
    agent.record_file_change("big.txt", "created", BIG, tool="Write", tool_use_id="t2")
    agent.emit_text("all done")
    app.save(agent)
    events = _summarized(served, client, session)
    renamed, big, said = events[3:6]
    assert [e["type"] for e in events[3:6]] == ["FileChanged", "FileChanged", "AgentTextEmitted"]
    ours = [e for e in events if e["stream_type"] == "summarizer"]
    assert {e["category"] for e in ours} == {"summary"}
    summaries = [e for e in ours if e["type"] == "EventSummarized"]
    summary_of = {e["payload"]["notification_id"]: e["payload"]["summary"] for e in summaries}
    calls = [e["payload"] for e in ours if e["type"] == "SummarizerCalled"]

    page.goto(f"{served.url}/sessions/{session}")
    n = len(events)
    # The summarizer's own events stay out of the stream unless their category is chosen.
    expect(page.locator(".stream-count")).to_have_text(f"{n - len(ours)} of {n}")
    for event in (renamed, big, said):
        summary = _row(page, event).locator(".row-summary")
        expect(summary).to_have_text(summary_of[event["id"]])
        expect(summary).to_have_class("row-summary ai")
        assert summary.get_attribute("title") == event["summary"]  # the mechanical one
    alice = page.locator('#agents .agent[data-name="alice"]')
    expect(alice.locator(".agent-summary")).to_have_text(summary_of[said["id"]])
    spend = page.locator("#summarizer-spend")
    priced = sum(c["priced_usd"] or 0 for c in calls)
    expect(spend).to_have_text(
        f"summaries · {len(calls)} call{'' if len(calls) == 1 else 's'} · "
        f"{tokens(sum(c['usage']['input_tokens'] for c in calls))} in · "
        f"{tokens(sum(c['usage']['output_tokens'] for c in calls))} out"
        + ("" if all(c["priced_usd"] is None for c in calls) else f" · {usd(priced)}")
    )
    assert "1 failed call" in str(spend.get_attribute("title"))
    expect(page.locator("#total-cost")).to_have_text("$0.0000")  # the agents' spend, apart

    page.click('.chip[data-category="summary"]')
    expect(page.locator(".stream-count")).to_have_text(f"{len(ours)} of {n}")
    kinds = page.eval_on_selector_all(".row", "rows => rows.map(r => r.dataset.type)")
    assert kinds == [e["type"] for e in ours]
    page.click('.chip[data-category="summary"]')

    # A rename's old path and the tool that made it; a long diff says where it was cut.
    _row(page, renamed).click()
    details = _row(page, renamed).locator(".details")
    expect(details).to_contain_text("renamed a.py → b.py")
    expect(details).to_contain_text("by Bash (call t1)")
    expect(details.locator(".details-ai")).to_have_text(summary_of[renamed["id"]])
    _row(page, renamed).locator(".row-line").click()
    _row(page, big).click()
    recorded = big["payload"]["diff"]
    expect(_row(page, big).locator(".details-cut")).to_have_text(
        f"diff cut at {len(recorded):,} of {len(BIG):,} characters"
    )
    expect(_row(page, big).locator(".diff-add").first).to_have_text("+line 0")

    # Replay: before the first summary, the mechanical summaries and no spend; the
    # failure while it lasted; each summary from when it was made.
    kinds = [e["type"] for e in events]
    first = kinds.index("EventSummarized")
    failed = kinds.index("SummarizerFailed")
    summary = _row(page, renamed).locator(".row-summary")
    page.evaluate("count => window.podium.seek(count)", min(first, failed))
    expect(summary).to_have_text(renamed["summary"])
    expect(alice.locator(".agent-summary")).to_be_hidden()
    expect(spend).to_be_hidden()
    page.evaluate("count => window.podium.seek(count)", failed + 1)
    expect(spend).to_contain_text("⚠ failing")
    for count in range(first + 1, n + 1):
        page.evaluate("count => window.podium.seek(count)", count)
        made = {e["payload"]["notification_id"] for e in events[:count] if e in summaries}
        expect(summary).to_have_text(
            summary_of[renamed["id"]] if renamed["id"] in made else renamed["summary"]
        )


def _entries(client: httpx.Client, level: str | None = None) -> list[dict[str, Any]]:
    """The whole system log, newest first, as the API pages it."""
    found: list[dict[str, Any]] = []
    before: int | None = NOTIFICATION_ID_MAX
    while before is not None:
        params: dict[str, Any] = {"before": before, "limit": 1000}
        if level:
            params["level"] = level
        body = client.get("/api/system-logs", params=params).json()
        found += body["items"]
        before = body["next_before"]
    return found


def _messages(page: Any) -> list[str]:
    texts = page.eval_on_selector_all(
        "#system-log .log-entry .log-message", "messages => messages.map(m => m.textContent)"
    )
    return [str(text) for text in texts]


def test_the_system_log_pages_newest_first_by_level_and_follows_live(
    served: Served, client: httpx.Client, page: Any
) -> None:
    app = served.app
    session = client.post("/api/sessions", json={"title": "logs"}).json()["session_id"]
    for n in range(130):
        app.write_system_log("warning" if n % 3 == 0 else "info", f"entry {n}")
    until(lambda: _entries(client)[0]["message"] == "entry 129")
    logged = _entries(client)

    page.goto(f"{served.url}/sessions/{session}")
    page.click("#system-log-button")
    panel = page.locator("#system-log-panel")
    expect(panel).to_be_visible()
    levels = page.eval_on_selector_all("#system-log-level option", "o => o.map(x => x.value)")
    assert levels == ["", *Level]  # the domain's levels, as GET /api/meta gives them
    entries = page.locator("#system-log .log-entry")
    expect(entries).to_have_count(100)
    assert _messages(page) == [e["message"] for e in logged[:100]]
    page.click("#system-log-older")
    expect(entries).to_have_count(len(logged))
    assert _messages(page) == [e["message"] for e in logged]
    expect(page.locator("#system-log-older")).to_be_hidden()

    # New entries arrive at the top; one naming a session links to it.
    app.write_system_log("error", "a live one", session_id=UUID(session))
    expect(entries.first.locator(".log-message")).to_have_text("a live one")
    expect(entries.first).to_have_attribute("data-level", "error")
    link = entries.first.locator(".log-session")
    assert link.get_attribute("href") == f"/sessions/{session}"

    # One level: its entries only, older ones paged, new ones of other levels left out.
    page.select_option("#system-log-level", "warning")
    warnings = _entries(client, "warning")
    expect(entries).to_have_count(len(warnings))
    assert _messages(page) == [e["message"] for e in warnings]
    app.write_system_log("error", "not a warning")
    app.write_system_log("warning", "a live warning")
    expect(entries.first.locator(".log-message")).to_have_text("a live warning")
    assert "not a warning" not in _messages(page)

    # Escape closes it; the approval queue opens in its place, one drawer at a time.
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    page.keyboard.press("l")
    expect(panel).to_be_visible()
    page.keyboard.press("q")
    expect(page.locator("#approvals-panel")).to_be_visible()
    expect(panel).to_be_hidden()
