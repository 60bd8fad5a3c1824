"""Demo mode shows the approval queue: the shipped /scout-and-build workflow's
scout reads the documentation with WebFetch, which podium's defaults ask a
person about, with Claude Code's sandbox present as on a demo machine. The
page is the model double's own (HTTPS on its loopback address), so allowing
it works offline. Real SDK, CLI, PostgreSQL and HTTP server; the double is
the only stand-in."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx

from runtime.model_double import ModelDouble
from tests.gateway_server import Served
from tests.test_approvals import eventually, pending, query

WORKFLOW = "/scout-and-build create a simple hello world app"


def run_the_workflow(served: Served, client: httpx.Client) -> tuple[UUID, dict[str, Any]]:
    """The workflow started from the chat, up to the scout's pending request."""
    session = served.app.start_session("demo", str(served.cwd))
    served.app.send_user_message(session.id, WORKFLOW)
    return session.id, pending(client, session.id)


def double_of(served: Served) -> ModelDouble:
    double = served.running.system.double
    assert double is not None and double.site_url is not None
    return double


def web_fetches(conninfo: str) -> list[tuple[Any, ...]]:
    """What the scout's WebFetch did: its output and whether it failed."""
    return query(
        conninfo,
        "SELECT payload->'output', (payload->>'is_error')::boolean FROM events "
        "WHERE event_type = 'ToolUseCompleted' AND payload->>'tool' = 'WebFetch'",
    )


def workflow_done(conninfo: str, session_id: UUID) -> list[tuple[Any, ...]] | None:
    """The agents (name, status, turns, template) once the orchestrator's turn has ended."""
    ended = query(
        conninfo,
        "SELECT count(*) FROM events WHERE stream_id = %s AND event_type = 'TurnCompleted'",
        session_id,
    )
    if ended[0][0] == 0:
        return None
    return query(
        conninfo,
        "SELECT name, status, turns, template FROM agents WHERE session_id = %s ORDER BY name",
        session_id,
    )


def scout_said(conninfo: str) -> str:
    ((text,),) = query(
        conninfo,
        "SELECT payload->>'text' FROM events e JOIN agents a ON a.agent_id = e.stream_id "
        "WHERE e.event_type = 'AgentTextEmitted' AND a.name = 'scout' "
        "ORDER BY e.notification_id DESC LIMIT 1",
    )
    return str(text)


def test_the_scout_asks_before_it_fetches_and_allowed_it_reads_the_page(
    served: Served, client: httpx.Client
) -> None:
    session_id, request = run_the_workflow(served, client)
    double = double_of(served)
    assert served.running.system.runtime.settings.confinement.sandboxed  # as on a demo machine
    assert (request["agent"], request["tool"]) == ("scout", "WebFetch")
    assert request["input"]["url"] == f"{double.site_url}/docs/"
    assert eventually(
        lambda: (
            query(served.conninfo, "SELECT status FROM agents WHERE name = 'scout'")
            == [("awaiting approval",)]
            or None
        ),
        "the scout awaiting approval",
    )
    assert double.page_requests == [] and web_fetches(served.conninfo) == []

    answer = client.post(f"/api/approvals/{request['id']}/decision", json={"decision": "allow"})
    assert answer.status_code == 200, answer.text
    agents = eventually(lambda: workflow_done(served.conninfo, session_id), "the workflow's end")
    assert agents == [("builder", "idle", 1, "builder"), ("scout", "idle", 1, "scout")]
    assert [page.path for page in double.page_requests] == ["/docs/"]
    ((output, is_error),) = web_fetches(served.conninfo)
    assert not is_error and "The page says: podium demo documentation" in str(output)
    assert "I read the documentation first. The page says:" in scout_said(served.conninfo)
    ((latency,),) = query(
        served.conninfo,
        "SELECT max(recorded_at) FILTER (WHERE event_type = 'ToolUseCompleted' "
        "AND payload->>'tool' = 'WebFetch') "
        "- max(recorded_at) FILTER (WHERE event_type = 'ApprovalGranted') FROM events",
    )
    print(
        f"decision to WebFetch's result (fetch + the double's reading), as recorded: "
        f"{latency.total_seconds() * 1000:.0f} ms"
    )
    assert (served.cwd / "hello.py").exists()  # the builder's work


def test_denied_the_scout_gets_the_message_and_the_workflow_goes_on(
    served: Served, client: httpx.Client
) -> None:
    session_id, request = run_the_workflow(served, client)
    message = "no web pages today: work from the code"
    answer = client.post(
        f"/api/approvals/{request['id']}/decision", json={"decision": "deny", "message": message}
    )
    assert answer.status_code == 200, answer.text
    agents = eventually(lambda: workflow_done(served.conninfo, session_id), "the workflow's end")
    assert agents == [("builder", "idle", 1, "builder"), ("scout", "idle", 1, "scout")]
    assert double_of(served).page_requests == []  # nothing was fetched
    assert web_fetches(served.conninfo) == [(message, True)]
    assert f'I could not read the documentation ("{message}")' in scout_said(served.conninfo)
    assert (served.cwd / "hello.py").exists()


def test_always_for_the_scout_its_next_fetch_does_not_ask(
    served: Served, client: httpx.Client
) -> None:
    session_id, request = run_the_workflow(served, client)
    always = {"decision": "allow", "scope": "agent"}
    answer = client.post(f"/api/approvals/{request['id']}/decision", json=always)
    assert answer.status_code == 200, answer.text
    eventually(lambda: workflow_done(served.conninfo, session_id), "the workflow's end")
    served.app.command_agent(session_id, "scout", "read the documentation again", "user")
    eventually(
        lambda: (
            query(served.conninfo, "SELECT turns FROM agents WHERE name = 'scout'") == [(2,)]
            or None
        ),
        "the scout's second turn",
    )
    assert [page.path for page in double_of(served).page_requests] == ["/docs/", "/docs/"]
    assert [is_error for _, is_error in web_fetches(served.conninfo)] == [False, False]
    assert query(served.conninfo, "SELECT count(*) FROM approvals") == [(1,)]  # asked once
