"""The orchestrator's eight management tools, as an in-process SDK MCP server.

Each tool is thin: it validates its input, issues a command of the
application service (the one the gateway's routes use, so a person acts
exactly as the orchestrator does) or reads what the tools read
(runtime/queries.py), and answers the model in plain text. Commands are
appended to the log like any other client's; the runtime then reacts to
them, so the tools never drive an SDK client directly. A tool given bad
input answers with a clear error (and the error is written to the system
log), never an exception.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from claude_agent_sdk import McpSdkServerConfig, SdkMcpTool, create_sdk_mcp_server, tool

from domain.agent import Agent
from domain.application import Podium
from domain.errors import DomainError
from domain.statuses import BUSY
from domain.vocabulary import Level
from runtime.queries import OrchestratorReads
from runtime.templates import agent_setup

SERVER_NAME = "podium"
SOURCE = "orchestrator"  # who gives the commands the tools give
LEVELS = [level.value for level in Level]


def interrupting(agent: Agent) -> str:
    """What an interrupt request did, said to whoever asked (the model, a person)."""
    if agent.status not in BUSY:
        return f"{agent.name} is not working ({agent.status}); nothing to interrupt."
    return f"Interrupting {agent.name}."


def _status(agent: dict[str, Any]) -> str:
    """'working', or 'working, 2 commands waiting': an agent runs one turn at a time."""
    waiting = agent["queued"]
    if not waiting:
        return str(agent["status"])
    return f"{agent['status']}, {waiting} command{'s' if waiting > 1 else ''} waiting"


def short_input(tool_input: Any, limit: int = 80) -> str:
    """A request's input in a line: a command, a path or a URL when it has one."""
    shown: Any = tool_input
    if isinstance(tool_input, dict):
        keys = ("command", "file_path", "notebook_path", "url", "pattern", "query")
        shown = next((tool_input[k] for k in keys if k in tool_input), tool_input)
    text = " ".join(str(shown).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def asking(requests: list[dict[str, Any]]) -> list[str]:
    """An agent's pending approval requests, as the orchestrator is shown them:
    it can see them, not decide them (a person does, in podium's queue)."""
    return [
        f"  awaits a person's approval (not yours to give): {r['tool']} "
        f"{short_input(r['input'])!r}, request {r['id']}"
        for r in requests
    ]


class ToolInputError(ValueError):
    """The model called a tool with input the tool cannot use."""


def _text(args: dict[str, Any], key: str, required: bool = True) -> str | None:
    value = args.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ToolInputError(f"'{key}' is required")
        return None
    if not isinstance(value, str):
        raise ToolInputError(f"'{key}' must be a string")
    return value.strip()


def _required(args: dict[str, Any], key: str) -> str:
    value = _text(args, key)
    assert value is not None
    return value


def _number(args: dict[str, Any], key: str) -> float | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ToolInputError(f"'{key}' must be a number")
    try:
        return float(value)
    except ValueError:
        raise ToolInputError(f"'{key}' must be a number") from None


def _int(args: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = args.get(key, default)
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ToolInputError(f"'{key}' must be a whole number") from None
    if not low <= number <= high:
        raise ToolInputError(f"'{key}' must be between {low} and {high}")
    return number


def _usd(value: Any) -> str:
    return f"${Decimal(value or 0):.4f}"


class ManagementTools:
    """The tools, bound to one session; ``cwd``: the session's directory, where
    its agents work and its own agent templates are."""

    def __init__(self, app: Podium, session_id: UUID, reads: OrchestratorReads, cwd: Path) -> None:
        self.app = app
        self.session_id = session_id
        self.reads = reads
        self.cwd = cwd

    async def create_agent(self, args: dict[str, Any]) -> str:
        name = _required(args, "name")
        template = _text(args, "template", False)
        setup = agent_setup(
            _text(args, "system_prompt", False) or "",
            _text(args, "model", False),
            template,
            self.cwd,
        )
        agent = await asyncio.to_thread(
            self.app.create_agent,
            self.session_id,
            name,
            cwd=".",
            budget_usd=_number(args, "budget_usd"),
            **setup.options(),
        )
        made_from = f" from the {template} template" if template else ""
        return f"Created agent {agent.name} ({agent.model}){made_from}, working in {self.cwd}."

    async def command_agent(self, args: dict[str, Any]) -> str:
        name, command = _required(args, "agent_name"), _required(args, "command")
        task = await asyncio.to_thread(
            self.app.command_agent, self.session_id, name, command, SOURCE
        )
        return (
            f"{name} started task '{task}' in the background. Use check_agent_status to follow it."
        )

    async def check_agent_status(self, args: dict[str, Any]) -> str:
        name = _required(args, "agent_name")
        tail = _int(args, "tail_count", 10, 1, 200)
        offset = _int(args, "offset", 0, 0, 100_000)
        verbose = bool(args.get("verbose", False))
        wait = _int(args, "wait_seconds", 0, 0, 600)
        reads = self.reads
        await reads.caught_up()
        agent = await reads.agent(self.session_id, name)
        if agent is None:
            raise ToolInputError(f"no agent called {name!r} in this session")
        deadline = time.monotonic() + wait
        while agent["status"] in BUSY and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            await reads.caught_up()
            agent = await reads.agent(self.session_id, name) or agent
        lines = [
            f"{agent['name']}: {_status(agent)} ({agent['model']})",
            f"task: {agent['current_task'] or '(none)'}",
            f"tokens: {agent['input_tokens']} in / {agent['output_tokens']} out, "
            f"cost {_usd(agent['cost_usd'])}, {agent['turns']} turns, "
            f"{agent['tool_uses']} tool uses",
        ]
        if agent["summary"]:
            lines.append(f"latest: {agent['summary']}")
        requests = await reads.pending_approvals(self.session_id)
        lines.extend(asking([r for r in requests if r["agent"] == agent["name"]]))
        events = await reads.task_log(agent["agent_id"], agent["current_task"], tail, offset)
        if events:
            lines.append(f"last {len(events)} events of the task:")
            for row in events:
                detail = row["payload"] if verbose else row["summary"]
                lines.append(f"  #{row['notification_id']} {row['event_type']}: {detail}")
        return "\n".join(lines)

    async def list_agents(self, args: dict[str, Any]) -> str:
        await self.reads.caught_up()
        agents = await self.reads.agents(self.session_id)
        if not agents:
            return "No agents yet."
        requests = await self.reads.pending_approvals(self.session_id)
        lines = []
        for a in agents:
            lines.append(
                f"{a['name']}: {_status(a)}, {a['model']}, task {a['current_task'] or '-'}, "
                f"{_usd(a['cost_usd'])}"
            )
            lines.extend(asking([r for r in requests if r["agent"] == a["name"]]))
        return "\n".join(lines)

    async def delete_agent(self, args: dict[str, Any]) -> str:
        name = _required(args, "agent_name")
        reason = f"deleted by the {SOURCE}"
        await asyncio.to_thread(self.app.delete_agent, self.session_id, name, reason)
        return f"Deleted {name}."

    async def interrupt_agent(self, args: dict[str, Any]) -> str:
        name = _required(args, "agent_name")
        agent = await asyncio.to_thread(self.app.interrupt_agent, self.session_id, name, SOURCE)
        return interrupting(agent)

    async def read_system_logs(self, args: dict[str, Any]) -> str:
        level = _text(args, "level", False)
        if level is not None and level not in LEVELS:
            raise ToolInputError(f"'level' must be one of {', '.join(LEVELS)}")
        limit = _int(args, "limit", 20, 1, 500)
        await self.reads.caught_up()
        rows = await self.reads.system_logs(level, limit)
        if not rows:
            return "The system log is empty."
        return "\n".join(f"{r['at']:%H:%M:%S} [{r['level']}] {r['message']}" for r in rows)

    async def report_cost(self, args: dict[str, Any]) -> str:
        await self.reads.caught_up()
        rows = await self.reads.costs(self.session_id)
        if not rows:
            return "No cost yet: total $0.0000."
        lines = ["per actor and model:"]
        by_model: dict[str, Decimal] = {}
        total = Decimal(0)
        for r in rows:
            who = "orchestrator" if r["actor_kind"] == "orchestrator" else r["actor_name"]
            turns = "model calls" if r["actor_kind"] == "summarizer" else "turns"
            lines.append(
                f"  {who} ({r['model']}): {_usd(r['cost_usd'])}, {r['turns']} {turns}, "
                f"{r['input_tokens']} in / {r['output_tokens']} out"
            )
            by_model[r["model"]] = by_model.get(r["model"], Decimal(0)) + r["cost_usd"]
            total += r["cost_usd"]
        lines.append("per model:")
        lines.extend(f"  {model}: {_usd(cost)}" for model, cost in sorted(by_model.items()))
        lines.append(f"session total: {_usd(total)} (exact: {total})")
        return "\n".join(lines)

    def _guarded(
        self, name: str, handler: Handler
    ) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
        """Answer bad input with a clear error text (and log it), never an exception."""

        async def run(args: dict[str, Any]) -> dict[str, Any]:
            try:
                text = await handler(args)
            except (DomainError, ToolInputError) as error:
                message = f"{name} failed: {error}"
                context = {"tool": name}
                await asyncio.to_thread(
                    self.app.write_system_log, Level.WARNING, message, context, self.session_id
                )
                return {"content": [{"type": "text", "text": message}], "is_error": True}
            return {"content": [{"type": "text", "text": text}]}

        return run

    def server(self) -> McpSdkServerConfig:
        tools: list[SdkMcpTool[Any]] = [
            tool(name, description, schema)(self._guarded(name, getattr(self, name)))
            for name, (description, schema) in TOOL_SPECS.items()
        ]
        return create_sdk_mcp_server(SERVER_NAME, tools=tools)


Handler = Callable[[dict[str, Any]], Awaitable[str]]
_AGENT_NAME = {"type": "string", "description": "the agent's name"}
_NAME_ONLY = {
    "type": "object",
    "properties": {"agent_name": _AGENT_NAME},
    "required": ["agent_name"],
}
TOOL_SPECS: dict[str, tuple[str, dict[str, Any]]] = {
    "create_agent": (
        "Create a worker agent with a unique name in this session.",
        {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "a letter, then letters, digits, _ or -"},
                "system_prompt": {"type": "string"},
                "model": {"type": "string", "description": "e.g. claude-sonnet-4-5"},
                "template": {
                    "type": "string",
                    "description": "builder, reviewer, scout, planner or tester",
                },
            },
            "required": ["name"],
        },
    ),
    "command_agent": (
        "Give an agent a task; returns at once while the agent works in the background.",
        {
            "type": "object",
            "properties": {"agent_name": _AGENT_NAME, "command": {"type": "string"}},
            "required": ["agent_name", "command"],
        },
    ),
    "check_agent_status": (
        "An agent's status, current task, the approval requests it awaits (only a person "
        "decides them), the task's latest events, tokens and cost.",
        {
            "type": "object",
            "properties": {
                "agent_name": _AGENT_NAME,
                "tail_count": {"type": "integer", "description": "how many events (default 10)"},
                "offset": {"type": "integer", "description": "skip this many of the newest"},
                "verbose": {"type": "boolean", "description": "full payloads, not summaries"},
                "wait_seconds": {
                    "type": "integer",
                    "description": "wait up to this long for the agent to finish its task",
                },
            },
            "required": ["agent_name"],
        },
    ),
    "list_agents": (
        "List this session's agents, with the approval requests each awaits.",
        {"type": "object", "properties": {}},
    ),
    "delete_agent": ("Delete an agent, interrupting it first if it is working.", _NAME_ONLY),
    "interrupt_agent": ("Stop what an agent is doing now.", _NAME_ONLY),
    "read_system_logs": (
        "Read podium's system log, newest last.",
        {
            "type": "object",
            "properties": {
                "level": {"type": "string", "enum": LEVELS},
                "limit": {"type": "integer", "description": "default 20"},
            },
        },
    ),
    "report_cost": (
        "Cost per agent, per model, and the session total.",
        {"type": "object", "properties": {}},
    ),
}
TOOL_NAMES = tuple(TOOL_SPECS)


def qualified(name: str) -> str:
    """The name the model sees: mcp__podium__create_agent."""
    return f"mcp__{SERVER_NAME}__{name}"
