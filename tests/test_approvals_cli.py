"""The approval queue from a terminal: `podium approvals`, `approve`, `deny` and
`audit approvals`, run as a user runs them (real processes) against a served
podium whose agent asks (the real SDK and CLI against the model double)."""

from __future__ import annotations

import itertools
import json
import os
import queue
import signal
import subprocess
import threading
from typing import Any
from uuid import uuid4

import httpx
import psycopg

from domain.application import Podium
from domain.approval import approval_id
from projections.runner import ProjectionRunner
from tests import test_approvals
from tests.gateway_server import Served
from tests.test_approvals import (
    asking_agent,
    bash_request,
    eventually,
    pending,
    ran_bash,
    turn_done,
)
from tests.test_cli import PODIUM, podium

served = test_approvals.served  # podium served where Bash asks (no sandbox programs)
unsandboxed = test_approvals.unsandboxed


def one_line_failure(done: subprocess.CompletedProcess[str], *said: str) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for words in said:
        assert words in lines[0], lines[0]


def audited(database_url: str) -> list[dict[str, Any]]:
    done = podium("audit", "approvals", "--json", database_url=database_url)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_a_pending_request_is_listed_and_approving_it_runs_the_tool(
    served: Served, client: httpx.Client, database_url: str
) -> None:
    session_id = asking_agent(served.app, served.cwd)
    request = pending(client, session_id)
    listed = podium("approvals", database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    assert request["id"] in line and "  sam  Bash: ls  [" in line, line
    elsewhere = podium("approvals", "--session", str(uuid4()), database_url=database_url)
    assert (elsewhere.stdout, elsewhere.stderr) == ("", "no pending requests\n")

    approved = podium("approve", request["id"][:8], database_url=database_url)
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout == "sam's Bash: ls: granted this once by cli\n"
    eventually(lambda: turn_done(served.conninfo, session_id), "the turn's end")
    ((output, is_error),) = ran_bash(served.conninfo)
    assert output["stdout"] == "hello.py" and not is_error

    decided = podium("approvals", "--decided", database_url=database_url)
    assert decided.stdout.rstrip().endswith("→ granted this once by cli"), decided.stdout
    assert podium("approvals", database_url=database_url).stdout == ""
    one_line_failure(podium("approve", request["id"], database_url=database_url), "already")

    (row,) = audited(database_url)
    assert (row["agent"], row["tool"], row["input"]["command"]) == ("sam", "Bash", "ls")
    assert (row["status"], row["scope"], row["decided_by"]) == ("granted", "once", "cli")
    assert (row["tool_outcome"], row["tool_output"]) == ("ok", "hello.py")
    assert row["approval_id"] == request["id"] and row["decided_at"] >= row["requested_at"]


def test_a_denied_request_tells_the_agent_the_message(
    served: Served, client: httpx.Client, database_url: str
) -> None:
    session_id = asking_agent(served.app, served.cwd)
    request = pending(client, session_id)
    message = "not in this repository"
    denied = podium("deny", request["id"], "--message", message, database_url=database_url)
    assert denied.returncode == 0, denied.stderr
    assert denied.stdout == f"sam's Bash: ls: denied by cli: {message}\n"
    eventually(lambda: turn_done(served.conninfo, session_id), "the turn's end")
    assert ran_bash(served.conninfo) == [(message, True)]
    (row,) = audited(database_url)
    assert (row["status"], row["decided_by"], row["message"]) == ("denied", "cli", message)
    assert (row["tool_outcome"], row["tool_output"]) == ("error", message)


def test_an_id_that_names_no_request_is_one_line(database_url: str) -> None:
    for given, said in (
        ("0123456789ab", "no request for permission has an id starting 0123456789ab"),
        (str(uuid4()), "no approval request"),
        ("abc", "'abc' is not a request's id"),
        ("hello world", "is not a request's id"),
    ):
        one_line_failure(podium("approve", given, database_url=database_url), said)
        one_line_failure(podium("deny", given, "--message", "no", database_url=database_url))


def test_a_prefix_of_more_than_one_id_is_one_line(app: Podium, database_url: str) -> None:
    session = app.start_session("prefixes", ".")
    agent = app.create_agent(session.id, "sam")
    # Two requests whose ids start alike (ids are the agent's tool use's: found by trying).
    firsts: dict[str, str] = {}
    for n in itertools.count():
        tool_use_id = f"toolu_{n}"
        start = str(approval_id(agent.id, tool_use_id))[:6]
        if start in firsts:
            break
        firsts[start] = tool_use_id
    for each in (firsts[start], tool_use_id):
        bash_request(app, agent, each)
    with psycopg.connect(database_url, autocommit=True) as conn:
        ProjectionRunner(database_url).catch_up(conn)
    one_line_failure(podium("deny", start, database_url=database_url), "more than one", start)
    whole, other = (str(approval_id(agent.id, each)) for each in (tool_use_id, firsts[start]))
    unique = next(whole[:n] for n in range(7, 37) if whole[:n] != other[:n])
    approved = podium("approve", unique.upper(), database_url=database_url)
    assert approved.stdout == "sam's Bash: ls: granted this once by cli\n", approved.stderr


def lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """What the process prints, line by line, as it prints it."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_follow_prints_requests_and_decisions_as_they_happen_until_ctrl_c(
    served: Served, client: httpx.Client, database_url: str
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    follower = subprocess.Popen(
        [*PODIUM, "approvals", "--follow"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = lines_of(follower)
        session_id = asking_agent(served.app, served.cwd)
        request = pending(client, session_id)
        asked = lines.get(timeout=90)
        assert request["id"] in asked and "Bash: ls" in asked and "→" not in asked, asked
        approved = podium("approve", request["id"], "--always", database_url=database_url)
        assert approved.stdout.endswith("granted for the agent by cli\n"), approved.stderr
        decided = lines.get(timeout=90)
        assert request["id"] in decided and decided.endswith("→ granted for the agent by cli")
        follower.send_signal(signal.SIGINT)
        _, errors = follower.communicate(timeout=60)
        assert follower.returncode == 0 and "Traceback" not in errors, errors
    finally:
        follower.kill()
    eventually(lambda: turn_done(served.conninfo, session_id), "the turn's end")
