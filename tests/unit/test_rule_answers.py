"""What podium's layers of rules answer when Claude Code asks (runtime/approvals.py),
what a grant sends back to the CLI, and a template's rules read from its front
matter (runtime/templates.py). Pure: no PostgreSQL, no CLI."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from uuid import uuid4

import pytest
from claude_agent_sdk import PermissionResultAllow

from domain.approval import Approval
from domain.permissions import MalformedRule, Outcome, Permissions, Place, defaults, ruling
from runtime.approvals import permission_result
from runtime.templates import agent_setup, split_rules, template_permissions

PLACE = Place(cwd=PurePosixPath("/work/app"), home=PurePosixPath("/home/ann"))
PODIUM = defaults(sandboxed=False, secrets=[PurePosixPath("/home/ann/.ssh")])


def answer(*layers: Permissions, tool: str = "Bash", **tool_input: str) -> tuple[str, str] | None:
    found = ruling((PODIUM, *layers), tool, tool_input, PLACE)
    return None if found is None else (found.outcome.value, found.rule.text)


def test_the_most_specific_layer_decides_and_a_deny_stands() -> None:
    agent = Permissions.of({Outcome.ALLOW: ["Bash(ls)"]})
    assert answer(command="ls") == ("ask", "Bash")  # podium's default, unsandboxed
    assert answer(agent, command="ls") == ("allow", "Bash(ls)")  # "always" outranks it
    assert answer(agent, command="ls && rm x") == ("ask", "Bash")  # not all of it
    session = Permissions.of({Outcome.DENY: ["Bash(ls)"]})
    assert answer(session, agent, command="ls") == ("deny", "Bash(ls)")
    template = Permissions.of({Outcome.ALLOW: ["Bash"]})
    own = Permissions.of({Outcome.ASK: ["Bash(git push:*)"]})
    assert answer(template, own, command="git push origin") == ("ask", "Bash(git push:*)")
    assert answer(template, own, command="git status") == ("allow", "Bash")


def test_files_outside_the_directory_are_no_rules_and_secrets_are_denied() -> None:
    assert answer(tool="Read", file_path="/work/app/src/a.py") == ("allow", "Read(./**)")
    assert answer(tool="Read", file_path="/etc/hosts") is None  # Claude Code asks
    assert answer(tool="Edit", file_path="/home/ann/.ssh/id_rsa") == (
        "deny",
        "Edit(//home/ann/.ssh/**)",
    )


def granted(scope: str, tool: str, **tool_input: str) -> Approval:
    approval = Approval.request(
        agent_id=uuid4(),
        session_id=uuid4(),
        agent="sam",
        task=None,
        tool=tool,
        tool_use_id="toolu_1",
        tool_input=dict(tool_input),
    )
    approval.grant(scope, "user")
    return approval


def updates(approval: Approval) -> list[tuple[str, str | None]]:
    """The rules a decided request sends back to the CLI as its permission update."""
    result = permission_result(approval, approval.tool)
    assert isinstance(result, PermissionResultAllow)
    return [
        (rule.tool_name, rule.rule_content)
        for update in result.updated_permissions or []
        if update.behavior == "allow"
        for rule in update.rules or []
    ]


def test_a_grant_beyond_one_use_goes_back_with_the_rule_the_log_keeps() -> None:
    assert updates(granted("once", "Bash", command="ls")) == []
    assert updates(granted("agent", "Bash", command="npm test")) == [("Bash", "npm test")]
    assert updates(granted("session", "mcp__docs__search")) == [("mcp__docs__search", None)]
    assert updates(granted("agent", "WebFetch", url="https://Docs.python.org/3/")) == [
        ("WebFetch", "domain:docs.python.org")
    ]


def test_a_templates_rules_come_from_its_front_matter(tmp_path: Path) -> None:
    assert split_rules("Bash(npm test:*), Read ,Bash(echo a, b),") == [
        "Bash(npm test:*)",
        "Read",
        "Bash(echo a, b)",
    ]
    fields = {"permissions-allow": "Read, Bash(npm test:*)", "permissions-deny": "WebFetch"}
    assert template_permissions(fields) == Permissions(
        allow=("Read", "Bash(npm test:*)"), deny=("WebFetch",)
    )
    with pytest.raises(MalformedRule, match="not a tool name"):
        template_permissions({"permissions-ask": "bash"})
    agents = tmp_path / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "lister.md").write_text(
        "---\nname: lister\ntools: Bash\npermissions-ask: Bash(rm:*)\n---\nYou list.\n"
    )
    setup = agent_setup("", None, "lister", tmp_path)
    assert setup.options()["template_permissions"] == Permissions(ask=("Bash(rm:*)",))
    assert agent_setup("", None, None, tmp_path).options()["template_permissions"] == Permissions()
    builder = agent_setup("", None, "builder", tmp_path).options()  # shipped with podium
    assert builder["template_permissions"] == Permissions(ask=("Bash(git push:*)",))
