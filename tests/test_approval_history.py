"""Approval requests and their decisions are part of their session's log: its
page (what replay reads) and its live stream carry them, named by the agent
they are for, in their own category."""

from __future__ import annotations

from typing import Any

import httpx

from domain.vocabulary import Category
from tests.gateway_server import Served, until
from tests.test_approvals import bash_request


def session_events(client: httpx.Client, session_id: object) -> list[dict[str, Any]]:
    page = client.get(f"/api/sessions/{session_id}/events", params={"limit": 500})
    assert page.status_code == 200, page.text
    events: list[dict[str, Any]] = page.json()["events"]
    return events


def test_a_sessions_page_carries_its_requests_and_decisions(
    served: Served, client: httpx.Client
) -> None:
    app = served.app
    session = app.start_session("history", str(served.cwd))
    other = app.start_session("elsewhere", str(served.cwd))
    agent = app.create_agent(session.id, "sam")
    stranger = app.create_agent(other.id, "kim")
    for who, use in ((agent, "toolu_1"), (stranger, "toolu_2")):
        app.decide_approval(bash_request(app, who, use).id, True, "once", "", "user")

    def decided() -> list[dict[str, Any]] | None:
        shown = [e for e in session_events(client, session.id) if e["category"] == "approval"]
        return shown if len(shown) == 2 else None

    shown = until(decided)
    assert [e["type"] for e in shown] == ["ApprovalRequested", "ApprovalGranted"]
    assert {(e["agent"], e["session_id"], e["category"]) for e in shown} == {
        ("sam", str(session.id), Category.APPROVAL.value)
    }
    assert shown[0]["summary"] == "sam asks to use Bash: command=ls"
    assert shown[1]["summary"] == "allowed (once) by user"
