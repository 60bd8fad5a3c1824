"""Governing from the browser, in real Chromium: an agent asks, a person allows
it from the queue (at a desktop's width and at a phone's, and from another
session's page: one queue for the team), and the tool then runs; denied with
a note, the agent is told; in replay the request is history; budgets are set
and removed in place, and their warnings show.

podium is served with Claude Code's sandbox programs off the PATH, so the
double's hello world asks before it lists the directory with Bash
(tests/test_approvals.py). What ran is checked in the log, as there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from domain.events import Usage
from tests import test_approvals, test_ui
from tests.gateway_server import Served
from tests.test_approvals import asking_agent, eventually, pending, ran_bash, turn_done
from tests.test_ui import HANDLED_PROBLEM, all_events, expect

# The fixtures these tests share: podium served where Bash asks, one Chromium.
unsandboxed = test_approvals.unsandboxed
served = test_approvals.served
browser = test_ui.browser

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@contextmanager
def tab(browser: Any, viewport: dict[str, int]) -> Iterator[Any]:
    """A fresh tab of this size (a phone's is a touch screen); any script error fails the test."""
    phone = viewport["width"] < 600
    context = browser.new_context(
        viewport=viewport, locale="en-US", is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on(
        "console",
        lambda m: (
            errors.append(f"console: {m.text}")
            if m.type == "error" and not HANDLED_PROBLEM.match(m.text)
            else None
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert errors == []


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is {width[0]}px wide in a {width[1]}px window"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_request_is_allowed_from_the_queue_and_the_tool_runs(
    served: Served, client: httpx.Client, browser: Any, viewport: dict[str, int]
) -> None:
    session_id = asking_agent(served.app, served.cwd)
    with tab(browser, viewport) as page:
        page.goto(f"{served.url}/sessions/{session_id}")
        badge = page.locator("#approvals-count")
        expect(badge).to_have_text("1 approval")
        sam = page.locator('#agents .agent[data-name="sam"]')
        expect(sam).to_have_attribute("data-status", "awaiting approval")
        expect(sam.locator(".agent-tool")).to_have_text("⏸ asks to use Bash ls")
        expect(page.locator('.row[data-type="ApprovalRequested"]')).to_contain_text(
            "sam asks to use Bash"
        )

        badge.click()
        queue = page.locator("#approvals-panel")
        expect(queue).to_be_visible()
        request = queue.locator('.approval[data-status="pending"]')
        expect(request).to_have_count(1)
        expect(request.locator(".approval-agent")).to_have_text("sam")
        expect(request.locator(".approval-tool-name")).to_have_text("Bash")
        expect(request.locator(".approval-input")).to_contain_text("$ ls")
        rule = pending(client, session_id)["rule"]  # the rule that asked, as the API says
        expect(request.locator(".approval-rule")).to_have_text(
            f"asked by the rule {rule}" if rule else "no rule allows it: podium asks by default"
        )
        shot = test_ui.SCREENSHOT.with_name(f"approvals-{viewport['width']}.png")
        shot.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(shot))  # for a look at the queue, beside test_ui's screenshot
        if viewport is PHONE:
            no_sideways_scroll(page)
            request.locator("button.allow-always").tap()  # Always for this agent
        else:
            expect(request).to_have_class("approval selected")
            page.keyboard.press("a")  # allow once, the selected (oldest) request

        eventually(lambda: turn_done(served.conninfo, session_id), "the turn's end")
        ((output, is_error),) = ran_bash(served.conninfo)
        assert output["stdout"] == "hello.py" and not is_error
        expect(badge).to_have_text("0 approvals")
        decided = queue.locator('.approval[data-status="granted"]')
        outcome = "allowed once" if viewport is DESKTOP else "always allowed for sam"
        expect(decided.locator(".approval-outcome")).to_have_text(f"{outcome} by user")
        expect(decided.locator("button.allow-once")).to_be_disabled()
        expect(sam).to_have_attribute("data-status", "idle")

        # In replay, as of the request: it waits, as history, its buttons disabled.
        events = all_events(client, str(session_id))
        added = [e["payload"]["rule"] for e in events if e["type"] == "PermissionRuleAdded"]
        assert len(added) == (0 if viewport is DESKTOP else 1)  # "always" keeps the rule it allows
        asked = next(i for i, e in enumerate(events) if e["type"] == "ApprovalRequested")
        waits = next(
            i
            for i, e in enumerate(events)
            if e["type"] == "AgentStatusChanged" and e["payload"]["status"] == "awaiting approval"
        )
        page.evaluate("count => window.podium.seek(count)", max(asked, waits) + 1)
        expect(badge).to_have_text("1 approval")
        then = queue.locator('.approval[data-status="pending"]')
        expect(then.locator(".approval-outcome")).to_have_text("pending at this moment")
        expect(then.locator("button.allow-once")).to_be_disabled()
        expect(sam).to_have_attribute("data-status", "awaiting approval")
        if viewport is PHONE:  # there the queue takes the screen: closed, the page is there
            page.locator("#approvals-close").tap()
            expect(queue).to_be_hidden()
            no_sideways_scroll(page)
            page.locator("#live").tap()
        else:
            page.click("#live")
        expect(badge).to_have_text("0 approvals")


def budgets_set(client: httpx.Client, session: str) -> list[tuple[str, float | None]]:
    """Every BudgetSet of the session, as (whose, budget): the log says what the page did."""
    return [
        (e["agent"] or "session", e["payload"]["budget_usd"])
        for e in all_events(client, session)
        if e["type"] == "BudgetSet"
    ]


def test_budgets_are_edited_in_place_and_their_warnings_show(
    served: Served, client: httpx.Client, browser: Any
) -> None:
    app = served.app
    started = app.start_session("budgets", str(served.cwd))
    session = str(started.id)
    bob = app.create_agent(started.id, "bob")
    bob.complete_turn(
        Usage(input_tokens=10, output_tokens=1),
        cost_usd=0.8,
        duration_ms=5,
        num_turns=1,
        claude_session_id="c",
    )
    app.save(bob)  # spent: $0.80, and no budget yet
    with tab(browser, DESKTOP) as page:
        page.goto(f"{served.url}/sessions/{session}")
        header = page.locator("#session-budget")
        card = page.locator('#agents .agent[data-name="bob"] .budget')
        expect(card.locator(".budget-limit")).to_have_text("set budget")
        expect(header).to_have_attribute("data-level", "none")

        # Click, type, Enter: the session's budget is set, and the bar shows 80% of it.
        header.locator(".budget-limit").click()
        header.locator(".budget-input").fill("$1")
        header.locator(".budget-input").press("Enter")
        expect(header.locator(".budget-limit")).to_have_text("of $1.00")
        expect(header).to_have_attribute("title", re.compile(r"\$0\.8000 of \$1\.00 · 80%"))
        # A warning recorded after a turn shows on the bar.
        app.warn_session_budget(started.id)
        expect(header).to_have_attribute("data-level", "warned")
        expect(header.locator(".budget-warning")).to_have_text("⚠ 75% spent")

        # The agent's: not an amount is refused on the spot; then set; then removed (empty).
        card.locator(".budget-limit").click()
        card.locator(".budget-input").fill("five")
        card.locator(".budget-input").press("Enter")
        expect(card.locator(".budget-input")).to_have_class(re.compile("invalid"))
        card.locator(".budget-input").fill("2.5")
        card.locator(".budget-input").press("Enter")
        expect(card.locator(".budget-limit")).to_have_text("of $2.50")
        card.locator(".budget-limit").click()
        card.locator(".budget-input").fill("")
        card.locator(".budget-input").press("Enter")
        expect(card.locator(".budget-limit")).to_have_text("set budget")
        # The page shows a budget as soon as the live stream does; pages of the
        # log trail it by what the projections have not yet applied.
        wanted = [("session", 1.0), ("bob", 2.5), ("bob", None)]
        eventually(lambda: budgets_set(client, session) == wanted or None, "the three budgets")

        # In replay the past is shown, not edited.
        page.click("#replay-start")
        expect(header.locator(".budget-limit")).to_be_disabled()


def test_a_request_denied_with_a_note_by_keys_tells_the_agent(
    served: Served, client: httpx.Client, browser: Any
) -> None:
    session_id = asking_agent(served.app, served.cwd)
    with tab(browser, DESKTOP) as page:
        page.goto(f"{served.url}/sessions/{session_id}")
        badge = page.locator("#approvals-count")
        expect(badge).to_have_text("1 approval")
        page.keyboard.press("q")  # the queue opens, its oldest request chosen
        request = page.locator('#approvals .approval[data-status="pending"]')
        expect(request).to_have_class("approval selected")
        page.keyboard.press("d")  # deny: the note is where the keys now go
        note = request.locator(".approval-note")
        expect(note).to_be_focused()
        message = "not today: say hello instead"
        note.type(message)
        note.press("Enter")

        eventually(lambda: turn_done(served.conninfo, session_id), "the turn's end")
        assert ran_bash(served.conninfo) == [(message, True)]  # what the agent was told
        denied = page.locator('#approvals .approval[data-status="denied"]')
        expect(denied.locator(".approval-outcome")).to_have_text(f"denied by user: {message}")
        expect(badge).to_have_text("0 approvals")
        expect(page.locator('.row[data-type="ApprovalDenied"]')).to_contain_text(message)
        asked = page.locator('.row[data-type="ApprovalRequested"]')
        asked.click()  # the request in the event stream, its input as it was asked
        expect(asked.locator(".details")).to_contain_text("$ ls")
        page.keyboard.press("Escape")
        expect(page.locator("#approvals-panel")).to_be_hidden()


def test_one_queue_for_the_team_a_request_of_another_session_is_decided_from_any(
    served: Served, client: httpx.Client, browser: Any
) -> None:
    session_id = asking_agent(served.app, served.cwd)
    elsewhere = client.post("/api/sessions", json={"title": "elsewhere"}).json()["session_id"]
    with tab(browser, DESKTOP) as page:
        page.goto(f"{served.url}/sessions/{elsewhere}")
        expect(page.locator("#approvals-count")).to_have_text("1 approval")
        page.locator("#approvals-count").click()
        request = page.locator('#approvals .approval[data-status="pending"]')
        link = request.locator(".approval-session")
        expect(link).to_have_text(f"in session {str(session_id)[:8]}")
        expect(link).to_have_attribute("href", f"/sessions/{session_id}")
        request.locator("button.allow-once").click()
        eventually(lambda: turn_done(served.conninfo, session_id), "the turn's end")
        ((output, is_error),) = ran_bash(served.conninfo)
        assert output["stdout"] == "hello.py" and not is_error
        expect(page.locator("#approvals-count")).to_have_text("0 approvals")
