"""podium's permission rules at work: the layers in the log (podium's defaults,
the session's, the template's, the agent's) reach the CLI and answer what it
asks, so "always" sticks (also after hibernation and a restart), a grant for
the session reaches its other agents, a session's deny refuses the tool, a
request names the rule that asked, and allow-all asks nothing (recorded).
The real SDK and CLI against the model double (tests/scenarios/shell.toml),
real PostgreSQL. Nothing is mocked."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.permissions import Outcome
from gateway.system import System, SystemConfig
from runtime.approvals import NO_RULE, SANDBOX_NETWORK, TURN_OVER_REASON
from runtime.runtime import ALLOW_ALL_NOTICE
from runtime.templates import agent_setup
from runtime.tools import TOOL_NAMES, ManagementTools
from tests.test_runtime import rows, until
from tests.test_sandbox import agent, shell_config, without_sandbox_programs

pytestmark = pytest.mark.anyio


@pytest.fixture
def unsandboxed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No sandbox here: podium's defaults ask about every Bash command."""
    monkeypatch.setenv("PATH", without_sandbox_programs(tmp_path))


async def command(system: System, session_id: UUID, text: str, name: str = "sam") -> str:
    return await asyncio.to_thread(system.app.command_agent, session_id, name, text, "user")


async def finished(system: System, task: str) -> list[dict[str, Any]]:
    """Wait for the task's turn to end: the Bash uses it completed (output, is_error)."""
    await until(
        system,
        "SELECT count(*) FROM events WHERE event_type = 'TurnCompleted' AND payload->>'task' = %s",
        task,
    )
    found = await rows(
        system,
        "SELECT payload FROM events WHERE event_type = 'ToolUseCompleted' "
        "AND payload->>'task' = %s ORDER BY notification_id",
        task,
    )
    return [payload for (payload,) in found]


async def requested(system: System) -> int:
    ((count,),) = await rows(
        system, "SELECT count(*) FROM events WHERE event_type = 'ApprovalRequested'"
    )
    return int(count)


async def pending(system: System, number: int = 1) -> tuple[UUID, str, str]:
    """The ``number``-th request, once pending: its id, tool and rule."""
    await until(system, "SELECT count(*) >= %s FROM approvals", number)
    found = await rows(
        system,
        "SELECT id, tool, rule FROM approvals ORDER BY notification_id OFFSET %s",
        number - 1,
    )
    return found[0][0], found[0][1], found[0][2]


async def decide(system: System, approval_id: UUID, allow: bool, scope: str = "once") -> None:
    await asyncio.to_thread(
        system.app.decide_approval, approval_id, allow, scope, "not today", "user"
    )


def ran(completed: list[dict[str, Any]]) -> bool:
    """The turn's one tool use ran and succeeded."""
    return len(completed) == 1 and not completed[0]["is_error"]


async def test_always_asks_no_more_also_after_hibernation_and_a_restart(
    database_url: str, tmp_path: Path, unsandboxed: None
) -> None:
    config = dataclasses.replace(shell_config(database_url, tmp_path), idle_seconds=1.0)
    async with System(config) as system:
        session_id = await agent(system)
        task = await command(system, session_id, "run: ls")
        approval_id, tool, rule = await pending(system)
        assert (tool, rule) == ("Bash", "Bash")  # podium's default, unsandboxed
        await decide(system, approval_id, True, "agent")
        assert ran(await finished(system, task))
        # The rule is in the log: the CLI still asks (podium's "ask Bash" comes
        # first in its settings), and the rule answers for the person.
        assert ran(await finished(system, await command(system, session_id, "run: ls")))
        await until(system, "SELECT count(*) FROM agents WHERE status = 'hibernating'")
        assert ran(await finished(system, await command(system, session_id, "run: ls")))
        # Another command still asks: the grant was for this one.
        other = await command(system, session_id, "run: pwd")
        approval_id, _, _ = await pending(system, 2)
        await decide(system, approval_id, False)
        assert not ran(await finished(system, other))
    async with System(config) as system:  # podium started again: the session resumes
        assert ran(await finished(system, await command(system, session_id, "run: ls")))
        assert await requested(system) == 2
        ((rules,),) = await rows(
            system,
            "SELECT payload FROM events WHERE event_type = 'PermissionRuleAdded'",
        )
        assert (rules["outcome"], rules["rule"]) == ("allow", "Bash(ls)")


async def test_a_grant_for_the_session_reaches_its_other_agents(
    database_url: str, tmp_path: Path, unsandboxed: None
) -> None:
    async with System(shell_config(database_url, tmp_path)) as system:
        session_id = await agent(system)
        await asyncio.to_thread(system.app.create_agent, session_id, "bob")
        # bob's CLI starts before the grant: the rule reaches it from the log.
        bob_first = await command(system, session_id, "say: ready", "bob")
        await finished(system, bob_first)
        task = await command(system, session_id, "run: ls")
        approval_id, _, _ = await pending(system)
        await decide(system, approval_id, True, "session")
        assert ran(await finished(system, task))
        assert ran(await finished(system, await command(system, session_id, "run: ls", "bob")))
        assert await requested(system) == 1


async def test_a_session_deny_rule_reaches_a_running_cli(database_url: str, tmp_path: Path) -> None:
    """Sandboxed, Bash is allowed; the session's deny rule, set while the agent's
    CLI runs, refuses the command (the CLI is started anew under the new rules)."""
    async with System(shell_config(database_url, tmp_path)) as system:
        session_id = await agent(system)
        assert ran(await finished(system, await command(system, session_id, "run: echo one")))
        rules = {Outcome.DENY: ["Bash(touch:*)"]}
        await asyncio.to_thread(system.app.set_session_rules, session_id, rules)
        refused = await finished(system, await command(system, session_id, "run: touch no.txt"))
        assert not ran(refused) and not (system.config.cwd / "no.txt").exists()
        assert ran(await finished(system, await command(system, session_id, "run: echo two")))
        assert await requested(system) == 0  # refused by the rule: nobody was asked


async def test_a_request_names_the_rule_that_asked(database_url: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("outside-the-directory-4c2a\n")
    async with System(shell_config(database_url, tmp_path)) as system:
        session_id = await agent(system)
        rules = {Outcome.ASK: ["Bash(touch:*)"]}
        await asyncio.to_thread(system.app.set_session_rules, session_id, rules)
        task = await command(system, session_id, "run: touch asked.txt")
        approval_id, tool, rule = await pending(system)
        assert (tool, rule) == ("Bash", "Bash(touch:*)")
        await decide(system, approval_id, False)
        assert not ran(await finished(system, task))
        # A file outside the agent's directory: no rule allows it, Claude Code asks.
        task = await command(system, session_id, f"read: {outside}")
        approval_id, tool, rule = await pending(system, 2)
        assert (tool, rule) == ("Read", NO_RULE)
        await decide(system, approval_id, False)
        read = await finished(system, task)
        assert not ran(read) and "outside-the-directory" not in json.dumps(read)


async def test_allow_all_asks_nothing_says_so_and_records_it(
    database_url: str,
    tmp_path: Path,
    unsandboxed: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config: SystemConfig = dataclasses.replace(shell_config(database_url, tmp_path), allow_all=True)
    async with System(config) as system:
        assert ALLOW_ALL_NOTICE in capsys.readouterr().err
        session_id = await agent(system)
        assert ran(await finished(system, await command(system, session_id, "run: ls")))
        assert await requested(system) == 0
        ((level, context),) = await until(
            system, "SELECT level, context FROM system_logs WHERE message = %s", ALLOW_ALL_NOTICE
        )
        assert (level, context) == ("warning", {"permissions": "allow-all"})


async def test_a_templates_rules_are_the_agents(
    database_url: str, tmp_path: Path, unsandboxed: None
) -> None:
    async with System(shell_config(database_url, tmp_path)) as system:
        templates = system.config.cwd / ".claude" / "agents"
        templates.mkdir(parents=True)
        (templates / "lister.md").write_text(
            "---\nname: lister\ndescription: lists files\ntools: Bash\n"
            "permissions-allow: Bash(ls), Bash(echo a, b)\npermissions-deny: Bash(rm:*)\n---\n"
            "You list files.\n"
        )
        session = await asyncio.to_thread(
            system.app.start_session, "templates", str(system.config.cwd)
        )
        setup = agent_setup("", None, "lister", system.config.cwd)
        await asyncio.to_thread(system.app.create_agent, session.id, "sam", **setup.options())
        assert ran(await finished(system, await command(system, session.id, "run: ls")))
        refused = await finished(system, await command(system, session.id, "run: rm -f x"))
        assert not ran(refused)
        assert await requested(system) == 0
        ((created,),) = await rows(
            system, "SELECT payload FROM events WHERE event_type = 'AgentCreated'"
        )
        assert created["template_permissions"]["allow"] == ["Bash(ls)", "Bash(echo a, b)"]


async def test_the_orchestrator_sees_pending_requests_and_cannot_decide_them(
    database_url: str, tmp_path: Path, unsandboxed: None
) -> None:
    async with System(shell_config(database_url, tmp_path)) as system:
        session_id = await agent(system)
        task = await command(system, session_id, "run: ls -la")
        approval_id, _, _ = await pending(system)
        await until(system, "SELECT count(*) FROM agents WHERE status = 'awaiting approval'")
        tools = ManagementTools(system.app, session_id, system.runtime.reads, system.config.cwd)
        shown = f"Bash 'ls -la', request {approval_id}"
        status = await tools.check_agent_status({"agent_name": "sam"})
        assert "awaiting approval" in status and shown in status
        listed = await tools.list_agents({})
        assert listed.startswith("sam: awaiting approval") and shown in listed
        assert not [name for name in TOOL_NAMES if "approv" in name or "decide" in name]
        await decide(system, approval_id, False)
        await finished(system, task)
        assert shown not in await tools.list_agents({})


FETCH = (
    'run: python3 -c "import urllib.request as u\n'
    "try: print(u.urlopen('http://example.com/', timeout=3).status)\n"
    "except Exception as error: print('failed', error)\n\""
)


async def test_the_sandboxs_question_for_a_host_ends_with_the_turn(
    database_url: str, tmp_path: Path
) -> None:
    """The command gave up waiting for the connection: its request goes too."""
    async with System(shell_config(database_url, tmp_path)) as system:
        session_id = await agent(system)
        await finished(system, await command(system, session_id, FETCH))
        ((tool, status, message),) = await until(
            system, "SELECT tool, status, message FROM approvals WHERE status <> 'pending'"
        )
        assert (tool, status, message) == (SANDBOX_NETWORK, "expired", TURN_OVER_REASON)


async def test_allow_all_leaves_the_sandbox_closed(database_url: str, tmp_path: Path) -> None:
    config = dataclasses.replace(shell_config(database_url, tmp_path), allow_all=True)
    async with System(config) as system:
        session_id = await agent(system)
        await finished(system, await command(system, session_id, FETCH))
        assert await requested(system) == 0
        ((refused,),) = await rows(
            system,
            "SELECT count(*) FROM events WHERE event_type = 'ToolUseCompleted' "
            "AND payload->>'tool' = %s AND payload->>'output' LIKE %s",
            SANDBOX_NETWORK,
            "%leaves the sandbox as it is%",
        )
        assert refused == 1
