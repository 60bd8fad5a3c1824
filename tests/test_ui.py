"""The web UI in real Chromium: podium up, a browser, the chat, the stream, replay.

Playwright for Python drives Debian's chromium (no browser download). What the
page shows is checked against the log and the read models, through the API.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from playwright import sync_api

from domain.events import Usage
from summarizer.consumer import POSITION as SUMMARIZER_POSITION
from tests.gateway_server import Served, until

CHROMIUM = Path(os.environ.get("PODIUM_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.exists():
    # CI installs chromium and sets PODIUM_REQUIRE_BROWSER, so there this is a failure.
    message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("PODIUM_REQUIRE_BROWSER"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)
expect = sync_api.expect

ROOT = Path(__file__).resolve().parent.parent
# Each run saves a fresh screenshot beside the build artefacts; the README's
# docs/screenshot.png is one of these, copied by hand when the UI changes.
SCREENSHOT = ROOT / "artifacts" / "screenshot.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHAT_TYPES = {"UserMessageSent", "OrchestratorReplied", "OrchestratorToolUsed", "AgentTextEmitted"}
# Chromium logs every 4xx response; those are problem documents the page shows.
HANDLED_PROBLEM = re.compile(r"Failed to load resource: .* status of 4\d\d")

expect.set_options(timeout=60_000)  # the agents' work takes seconds on a busy machine


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    """A fresh tab at 1440x900; any script error on the page fails the test."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    tab = context.new_page()
    errors: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and not HANDLED_PROBLEM.match(message.text):
            errors.append(f"console: {message.text}")

    tab.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    tab.on("console", console)
    yield tab
    context.close()  # before the server stops, so no stream is cut under the page
    assert errors == []


# --- helpers ----------------------------------------------------------------------


def usd(amount: float) -> str:
    """As the UI writes money (ui/format.js)."""
    return f"${amount:.2f}" if amount >= 100 else f"${amount:.4f}"


def tokens(count: int) -> str:
    """As the UI writes token counts (ui/format.js)."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 10_000:
        return f"{round(count / 1000)}k"
    return str(count)


def to_ms(iso: str) -> int:
    moment = datetime.fromisoformat(iso)
    return int(moment.replace(microsecond=0).timestamp()) * 1000 + moment.microsecond // 1000


def send(page: Any, text: str) -> None:
    page.fill("#message", text)
    page.press("#message", "Enter")
    expect(page.locator("#message")).to_have_value("")  # accepted by the gateway


def all_events(client: httpx.Client, session: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = client.get(f"/api/sessions/{session}/events", params={"after": after}).json()
        events += page["events"]
        after = page["next_after"]
    return events


def summarized_through(served: Served, last: int) -> None:
    """Wait until the summarizer has summarized every event it summarizes up to ``last``."""

    def position() -> bool:
        with psycopg.connect(served.conninfo) as conn:
            row = conn.execute(
                "SELECT notification_id FROM projection_tracking WHERE projection = %s",
                (SUMMARIZER_POSITION,),
            ).fetchone()
        return row is not None and int(row[0]) >= last

    until(position)


def settled(served: Served, client: httpx.Client, session: str) -> list[dict[str, Any]]:
    """The session's events once alice has finished, her events are summarized, and
    nothing more arrives."""

    def alice_done() -> bool:
        agents = client.get(f"/api/sessions/{session}/agents").json()["agents"]
        return bool(agents) and agents[0]["turns"] >= 1 and agents[0]["status"] == "idle"

    until(alice_done)
    events = all_events(client, session)
    while True:  # the orchestrator may still be finishing its turn, the summarizer its calls
        time.sleep(1.5)
        summarized_through(served, max(e["id"] for e in streamed(events)))
        again = all_events(client, session)
        if len(again) == len(events):
            return events
        events = again


def streamed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events the stream shows with no filter: not the summarizer's own."""
    return [e for e in events if e["stream_type"] != "summarizer"]


def file_row(change: str, name: str) -> str:
    """The row of a file's change, by its mechanical summary (its tooltip once summarized)."""
    return f'.row[data-type="FileChanged"]:has(.row-summary[title^="{change} "][title$="{name}"])'


def label(page: Any) -> str:
    return str(page.text_content("#replay-label"))


def shown_rows(page: Any) -> list[int]:
    ids = page.eval_on_selector_all(".row", "rows => rows.map(r => Number(r.dataset.id))")
    return sorted(ids)


def chat_ids(page: Any) -> list[int]:
    stored = ".msg[data-id]:not(.streaming)"
    ids = page.eval_on_selector_all(stored, "messages => messages.map(m => m.dataset.id)")
    return [int(i) for i in ids]


def expect_as_of(page: Any, events: list[dict[str, Any]], count: int) -> None:
    """The page shows the log as of its first ``count`` events."""
    prefix = events[:count]
    # One frame draws it all: once the label says the moment, the rest is drawn too.
    moment = f"#{prefix[-1]['id']} · " if prefix else "start · 0 /"
    expect(page.locator("#replay-label")).to_contain_text(moment)
    assert label(page).startswith(moment)
    rows = streamed(prefix)
    expect(page.locator(".stream-count")).to_have_text(f"{len(rows):,} of {count:,}")
    shown = shown_rows(page)
    assert (shown[-1] if shown else None) == (rows[-1]["id"] if rows else None)
    assert chat_ids(page) == [e["id"] for e in prefix if e["type"] in CHAT_TYPES]
    created = [e["payload"]["name"] for e in prefix if e["type"] == "AgentCreated"]
    names = page.eval_on_selector_all("#agents .agent", "cards => cards.map(c => c.dataset.name)")
    assert names == created
    cost = sum(e["payload"]["cost_usd"] for e in prefix if e["type"] == "TurnCompleted")
    expect(page.locator("#total-cost")).to_have_text(usd(cost))


# --- the tests --------------------------------------------------------------------


def test_a_chat_creates_alice_and_her_work_streams_in(
    served: Served, client: httpx.Client, page: Any
) -> None:
    page.goto(f"{served.url}/")  # no session yet: the first message starts one
    send(page, "create an agent called alice")
    page.wait_for_url(re.compile(r"/sessions/[0-9a-f-]{36}$"))
    session = page.url.rsplit("/", 1)[1]

    alice = page.locator('#agents .agent[data-name="alice"]')
    expect(alice).to_be_visible()
    expect(page.locator('.row[data-type="AgentCreated"]')).to_contain_text("alice")
    expect(page.locator(".msg.user").first).to_contain_text("create an agent called alice")
    expect(page.locator(".msg.orchestrator").first).to_contain_text("alice")
    expect(page.locator("#live")).to_have_text("● live")

    send(page, "tell alice to create a simple hello world app")
    # Her events stream in; the search (/ focuses it when not typing) narrows them
    # to the file she writes.
    page.click("#agents-panel h2")
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.type("hello.py")
    write = page.locator('.row[data-type="ToolUseRequested"]', has_text="Write(")
    expect(write.first).to_be_visible()
    created = page.locator(file_row("created", "hello.py"))
    expect(created).to_be_visible()
    created.click()
    expect(created.locator(".diff .diff-add")).to_contain_text('print("Hello, World!")')
    write.first.click()
    expect(write.first.locator(".details")).to_contain_text('print("Hello, World!")')
    expect(write.first.locator(".details")).to_contain_text("output")
    expect(page.locator(".msg.agent").first).to_contain_text("hello.py")

    # Esc clears the search; the category filter narrows by kind.
    page.locator("#search").press("Escape")
    expect(page.locator("#search")).to_have_value("")
    page.click('.chip[data-category="file"]')
    expect(page.locator(".row").first).to_be_visible()
    kinds = page.eval_on_selector_all(".row", "rows => rows.map(r => r.dataset.type)")
    assert set(kinds) == {"FileChanged"}
    page.click('.chip[data-category="file"]')

    # Once she is done, the sidebar and the header say what the read models say.
    events = settled(served, client, session)
    [agent] = client.get(f"/api/sessions/{session}/agents").json()["agents"]
    expect(alice).to_have_attribute("data-status", agent["status"])
    expect(alice.locator(".agent-usage")).to_contain_text(
        f"{tokens(agent['input_tokens'])} in · {tokens(agent['output_tokens'])} out · "
        f"{tokens(agent['cache_read_input_tokens'] + agent['cache_creation_input_tokens'])} cache"
        f" · {usd(float(agent['cost_usd']))}"
    )
    expect(alice.locator(".agent-task")).to_have_text(f"task: {agent['current_task']}")
    total = float(client.get(f"/api/sessions/{session}").json()["cost_usd"])
    expect(page.locator("#total-cost")).to_have_text(usd(total))
    shown = len(streamed(events))
    expect(page.locator(".stream-count")).to_have_text(f"{shown:,} of {len(events):,}")

    # For the README: the whole team at work, with the edit's diff open.
    edit = page.locator(file_row("modified", "hello.py"))
    edit.click()
    edit.scroll_into_view_if_needed()
    expect(edit.locator(".diff-add").first).to_be_visible()
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


def test_replay_shows_the_log_as_it_was_at_any_moment(
    served: Served, client: httpx.Client, page: Any
) -> None:
    session = client.post("/api/sessions", json={"title": "replay"}).json()["session_id"]
    client.post(f"/api/sessions/{session}/messages", json={"text": "create an agent called alice"})
    until(lambda: client.get(f"/api/sessions/{session}/agents").json()["agents"])
    client.post(
        f"/api/sessions/{session}/messages",
        json={"text": "tell alice to create a simple hello world app"},
    )
    events = settled(served, client, session)
    n = len(events)

    page.goto(f"{served.url}/sessions/{session}")
    expect(page.locator("#replay-label")).to_contain_text(f"#{events[-1]['id']} ")
    expect_as_of(page, events, n)

    # To the start: nothing has happened yet.
    page.click("#replay-start")
    expect(page.locator("#replay-label")).to_contain_text(f"start · 0 / {n}")
    expect_as_of(page, events, 0)
    expect(page.locator("#live")).to_have_text("go live")
    expect(page).to_have_url(re.compile(r"\?at=0$"))

    # To the end with the scrubber itself.
    page.focus("#scrubber")
    page.keyboard.press("End")
    expect(page.locator("#replay-label")).to_contain_text(f"#{events[-1]['id']} ")
    expect_as_of(page, events, n)

    # A deep link opens a moment: alice just created, not yet at work.
    born = next(i for i, e in enumerate(events) if e["type"] == "AgentCreated")
    page.goto(f"{served.url}/sessions/{session}?at={events[born]['id']}")
    expect(page.locator("#replay-label")).to_contain_text(f"#{events[born]['id']} ")
    expect_as_of(page, events, born + 1)
    alice = page.locator('#agents .agent[data-name="alice"]')
    expect(alice).to_have_attribute("data-status", "idle")
    expect(alice.locator(".agent-task")).to_have_text("no task yet")

    # Step one event at a time, up to her turn's start: now she works, and it shows.
    started = next(
        i
        for i, e in enumerate(events)
        if e["type"] == "AgentStatusChanged" and e["payload"].get("started")
    )
    for count in range(born + 2, started + 2):
        page.click("#replay-forward")
        expect(page.locator("#replay-label")).to_contain_text(f"#{events[count - 1]['id']} ")
    expect_as_of(page, events, started + 1)
    expect(alice).to_have_attribute("data-status", "working")
    pulse = alice.locator(".status-dot").evaluate("dot => getComputedStyle(dot).animationName")
    assert pulse == "pulse"
    page.click("#replay-back")
    expect_as_of(page, events, started)

    # Jump to a time: the log as of that moment (to the millisecond, as browsers keep time).
    page.fill("#jump-time", events[born]["at"])
    page.press("#jump-time", "Enter")
    moment = to_ms(events[born]["at"])
    upto = sum(1 for e in events if to_ms(e["at"]) <= moment)
    expect(page.locator("#replay-label")).to_contain_text(f"#{events[upto - 1]['id']} ")

    # Play at 16x: the replay runs to the end of the log and becomes the live view.
    page.click("#replay-start")
    page.select_option("#replay-speed", "16")
    page.click("#replay-play")
    expect(page.locator("#live")).to_have_text("● live", timeout=90_000)
    expect_as_of(page, events, n)
    # Instant: straight to the end.
    page.click("#replay-start")
    page.select_option("#replay-speed", "instant")
    page.click("#replay-play")
    expect(page.locator("#replay-label")).to_contain_text(f"#{events[-1]['id']} ")


def test_partial_replies_stream_in_and_give_way_to_the_stored_message(
    served: Served, client: httpx.Client, page: Any
) -> None:
    session = client.post("/api/sessions", json={"title": "drafts"}).json()["session_id"]
    page.goto(f"{served.url}/sessions/{session}")
    expect(page.locator("#connection")).to_have_text("live")

    live = served.running.system.live
    assert live is not None
    for piece in ("Hello", ", wor", "ld"):
        served.loop.call_soon_threadsafe(
            live.publish, "orchestrator_text_delta", {"session_id": session, "text": piece}
        )
    draft = page.locator(".msg.streaming")
    expect(draft).to_have_text(re.compile("Hello, world$"))

    stored = served.app.get_session(UUID(session))
    stored.record_reply("Hello, world")
    served.app.save(stored)
    expect(page.locator(".msg.orchestrator:not(.streaming)")).to_contain_text("Hello, world")
    expect(draft).to_have_count(0)


def test_agents_can_be_acted_on_by_hand_and_a_bad_session_says_so(
    served: Served, client: httpx.Client, page: Any
) -> None:
    session = client.post("/api/sessions", json={"title": "by hand"}).json()["session_id"]
    assert client.post(f"/api/sessions/{session}/agents", json={"name": "bob"}).status_code == 201
    page.goto(f"{served.url}/sessions/{session}")
    bob = page.locator('#agents .agent[data-name="bob"]')
    expect(bob).to_have_attribute("data-status", "idle")

    page.on("dialog", lambda dialog: dialog.accept())  # "Delete bob?"
    bob.hover()
    bob.locator('button[data-action="delete"]').click()
    expect(bob).to_have_attribute("data-status", "deleted")
    expect(page.locator('.row[data-type="AgentDeleted"]')).to_be_visible()

    # A command to a deleted agent is refused; the problem's detail is shown.
    send_text = page.locator("#message")
    send_text.fill("@bob say hello")
    send_text.press("Enter")
    expect(page.locator(".chat-error")).to_contain_text("bob")
    expect(send_text).to_have_value("@bob say hello")  # kept, to fix and send again

    # The session picker lists every session and starts new ones.
    page.click("#session-picker")
    expect(page.locator(f'.session-item[data-session-id="{session}"]')).to_contain_text("by hand")
    page.click("#new-session")
    page.wait_for_url(re.compile(r"/sessions/(?!" + session + r")[0-9a-f-]{36}$"))
    expect(page.locator("#agents .agent")).to_have_count(0)
    sessions = client.get("/api/sessions").json()["sessions"]
    assert page.url.endswith(sessions[0]["session_id"]) and len(sessions) == 2

    page.goto(f"{served.url}/sessions/00000000-0000-4000-8000-000000000000")
    expect(page.locator(".toast")).to_be_visible()
    expect(page.locator("#connection")).to_have_text("offline")


def test_a_long_log_is_paged_in_virtualised_and_scrubbed_exactly(
    served: Served, client: httpx.Client, page: Any
) -> None:
    # Thousands of events nothing reacts to (no commands): alice's turns, written directly.
    app = served.app
    started = app.start_session("long", str(served.cwd))
    session = str(started.id)
    agent = app.create_agent(started.id, "alice")
    turns = 1000
    for turn in range(turns):
        agent.change_status("working", f"turn {turn}")
        agent.request_tool_use(f"t{turn}", "Bash", {"command": f"echo {turn}"})
        agent.complete_tool_use(f"t{turn}", "Bash", str(turn))
        agent.complete_turn(
            Usage(input_tokens=10, output_tokens=1),
            cost_usd=0.001,
            duration_ms=5,
            num_turns=1,
            claude_session_id="c",
        )
        if turn % 100 == 99:
            app.save(agent)
    app.save(agent)
    n = 2 + 4 * turns  # SessionStarted, AgentCreated, then four a turn

    # Pages are complete up to what the read models have applied ("head"):
    # wait for the projections to reach the last save. The summarizer's events
    # come in between as it goes: the page shows them only when asked.
    def complete() -> list[dict[str, Any]] | None:
        found = all_events(client, session)
        return found if len(streamed(found)) == n else None

    events = until(complete)

    page.goto(f"{served.url}/sessions/{session}")
    expect(page.locator(".stream-count")).to_have_text(re.compile(rf"^{n:,} of [\d,]+$"))
    assert page.locator(".row").count() < 100  # only what is on screen, of 4,002 rows
    alice = page.locator('#agents .agent[data-name="alice"]')
    expect(alice.locator(".agent-usage")).to_contain_text(f"{usd(turns * 0.001)} · {turns} turns")

    # Scrub anywhere: each moment folds from a checkpoint to exactly the log's state.
    for count in (2, 1234, 3001, 17, n - 1, 2500):
        page.evaluate("count => window.podium.seek(count)", count)
        expect(page.locator("#replay-label")).to_contain_text(f"#{events[count - 1]['id']} ")
        done = sum(1 for e in events[:count] if e["type"] == "TurnCompleted")
        expect(alice.locator(".agent-usage")).to_contain_text(
            f"{tokens(done * 10)} in · {tokens(done)} out · 0 cache · {usd(done * 0.001)} · "
            f"{done} turn{'' if done == 1 else 's'}"
        )
        last = streamed(events[:count])[-1]
        working = last["type"] != "TurnCompleted" and len(streamed(events[:count])) > 2
        expect(alice).to_have_attribute("data-status", "working" if working else "idle")
        assert shown_rows(page)[-1] == last["id"]
