"""What the runtime answers when Claude Code asks whether an agent may use a tool.

podium's layers of rules (its defaults, the session's, the template's, the
agent's) are read fresh from the log on every question: a CLI started before
a rule was added (an "always" grant, a session's rule set from the browser)
is answered by the rule all the same. What the rules allow runs at once,
what they deny is refused, and the rest becomes an approval request
(domain/approval.py) that waits for a person's decision by following the
log, so a decision made through any gateway reaches the runtime that asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from uuid import UUID

from claude_agent_sdk import PermissionResultAllow, PermissionResultDeny, PermissionUpdate
from claude_agent_sdk.types import PermissionRuleValue

from domain.agent import Agent
from domain.application import Podium
from domain.approval import Approval, ApprovalStatus, Scope
from domain.errors import AlreadyDecided
from domain.permissions import Permissions, Place, Rule
from domain.permissions import rule_for as approved_rule
from domain.session import Session
from eventlog.following import listening

# The rule a request names when no rule covers the call and Claude Code asks
# by default (a file outside the agent's directory, another MCP server's tool).
NO_RULE = "no rule allows it"

# What Claude Code's sandbox asks before Bash reaches a host outside the allowed
# domains: a way out of the sandbox, which allow-all leaves closed.
SANDBOX_NETWORK = "SandboxNetworkAccess"
TURN_OVER_REASON = "the agent's turn ended before anyone decided"

PermissionResult = PermissionResultAllow | PermissionResultDeny


def agent_layers(session: Session, agent: Agent) -> tuple[Permissions, ...]:
    """The layers the log holds for an agent, least specific first: its
    session's, its template's and its own (podium's defaults go before them)."""
    return (session.permissions, *agent.permission_layers)


def place_of(cwd: Path) -> Place:
    """Where the agent's rules and tool inputs start: its directory (and the home folder)."""
    return Place(cwd=PurePosixPath(cwd.resolve().as_posix()), home=PurePosixPath(Path.home()))


def refusal(tool: str, rule: Rule) -> PermissionResultDeny:
    return PermissionResultDeny(message=f"{tool} is denied by the permission rule {rule.text}")


def sandbox_stays(tool_input: Mapping[str, Any]) -> PermissionResultDeny:
    """allow-all's answer to the sandbox asking for a host: the sandbox stays."""
    host = tool_input.get("host", "the host")
    return PermissionResultDeny(
        message=f"{host} is not among the sandbox's allowed domains "
        "(--permissions allow-all leaves the sandbox as it is)"
    )


def permission_result(approval: Approval, tool: str) -> PermissionResult:
    """What Claude Code is told of a decided request. A grant beyond this one use
    goes back as the SDK's permission update with the rule it approves (the
    same rule the log keeps: ``rule_for``), so the CLI asks no more for it."""
    if approval.status is ApprovalStatus.GRANTED:
        if approval.scope is Scope.ONCE:
            return PermissionResultAllow()
        rule = Rule.parse(approved_rule(tool, approval.input))
        value = PermissionRuleValue(tool_name=rule.tool, rule_content=rule.specifier)
        update = PermissionUpdate(
            type="addRules", rules=[value], behavior="allow", destination="session"
        )
        return PermissionResultAllow(updated_permissions=[update])
    if approval.status is ApprovalStatus.DENIED:
        return PermissionResultDeny(message=approval.message or f"{tool} was denied")
    return PermissionResultDeny(message=f"{tool} was not approved: {approval.message}")


class Decisions:
    """Waits for the decisions on approval requests, by following the log: a
    decision made through any gateway (any process) reaches the runtime that
    asked. Requests nobody decides on within ``timeout`` seconds expire."""

    def __init__(self, app: Podium, conninfo: str, timeout: float) -> None:
        self.app = app
        self.conninfo = conninfo
        self.timeout = timeout
        self.waited_for: set[UUID] = set()  # requests an agent of this runtime waits on

    async def wait(self, approval_id: UUID) -> Approval:
        """The request as decided, or as expired once its time is up."""
        self.waited_for.add(approval_id)
        try:
            deadline = asyncio.get_running_loop().time() + self.timeout
            async with listening(self.conninfo, "podium approval wait") as appends:
                while True:
                    approval = await asyncio.to_thread(self.app.get_approval, approval_id)
                    if approval.is_decided:
                        return approval
                    if asyncio.get_running_loop().time() >= deadline:
                        reason = f"nobody decided within {self.timeout:g} seconds"
                        try:
                            return await asyncio.to_thread(
                                self.app.expire_approval, approval_id, reason
                            )
                        except AlreadyDecided:  # a decision came first: it stands
                            continue
                    await appends.wait()  # an append, or a second: look again
        finally:
            self.waited_for.discard(approval_id)
