"""How `podium approvals` shows a request on one line: its input, its rule, its outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from gateway.cli_approvals import SHOWN_INPUT, input_line, outcome, request_line

AT = datetime(2026, 12, 2, 9, 30, 5, tzinfo=UTC)
ID = UUID("6f1c0000-0000-4000-8000-000000000001")


@pytest.mark.parametrize(
    ("tool_input", "shown"),
    [
        ({"command": "npm test", "description": "run the tests"}, "npm test"),
        ({"file_path": "/w/src/app.py", "old_string": "a", "new_string": "b"}, "/w/src/app.py"),
        ({"url": "https://docs.python.org/3/", "prompt": "read"}, "https://docs.python.org/3/"),
        ({"query": "claude code permissions"}, "claude code permissions"),
        ({"command": "cat <<EOF\nhello\n  EOF"}, "cat <<EOF ⏎ hello ⏎ EOF"),
        ({"server": "x", "n": 2}, '{"server":"x","n":2}'),
    ],
)
def test_the_input_is_what_says_most_of_it(tool_input: dict[str, Any], shown: str) -> None:
    assert input_line(tool_input) == shown


def test_a_long_input_is_cut_short_visibly() -> None:
    shown = input_line({"command": "x" * 500})
    assert len(shown) == SHOWN_INPUT and shown.endswith("…")


def test_outcomes() -> None:
    assert outcome("granted", "once", "", "user") == "granted this once by user"
    assert outcome("granted", "agent", "", "cli") == "granted for the agent by cli"
    assert outcome("granted", "session", "", "cli") == "granted for the session by cli"
    assert outcome("denied", None, "not now", "cli") == "denied by cli: not now"
    assert outcome("denied", None, "", "cli") == "denied by cli"
    assert outcome("expired", None, "nobody decided", None) == "expired: nobody decided"


def row(**changes: Any) -> dict[str, Any]:
    base = {
        "id": ID,
        "agent": "sam",
        "tool": "Bash",
        "input": {"command": "ls"},
        "rule": "Bash(curl:*)",
        "status": "pending",
        "scope": None,
        "message": None,
        "requested_at": AT,
        "decided_at": None,
        "decided_by": None,
    }
    return {**base, **changes}


def test_a_pending_request_and_a_decided_one() -> None:
    assert request_line(row()) == f"2026-12-02 09:30:05  {ID}  sam  Bash: ls  [Bash(curl:*)]"
    decided = row(
        status="granted", scope="agent", decided_by="cli", rule="", decided_at=AT.replace(minute=31)
    )
    assert request_line(decided) == (
        f"2026-12-02 09:31:05  {ID}  sam  Bash: ls  [no rule allows it]"
        "  → granted for the agent by cli"
    )
