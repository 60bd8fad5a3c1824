"""The orchestrator's eight management tools, as an in-process SDK MCP server.

Each tool is thin: it validates its input, issues a domain command or reads a
read model through the session's ``SessionControl``, and answers the model
in plain text. A tool given bad input answers with a clear error (and the
error is written to the system log), never an exception.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from claude_agent_sdk import McpSdkServerConfig, SdkMcpTool, create_sdk_mcp_server, tool

from domain.errors import DomainError
from runtime.queries import ReadModels
from runtime.templates import UnknownTemplate

SERVER_NAME = "podium"
LOG_LEVELS = ("debug", "info", "warning", "error")
BUSY = ("working", "queued")


class SessionControl(Protocol):
    """What the tools may do in their session; the runtime implements it."""

    session_id: UUID
    reads: ReadModels

    async def create_agent(
        self,
        name: str,
        system_prompt: str,
        model: str | None,
        template: str | None,
        budget_usd: float | None,
    ) -> str: ...

    async def command_agent(self, name: str, command: str) -> str: ...

    async def interrupt_agent(self, name: str) -> str: ...

    async def delete_agent(self, name: str) -> str: ...

    async def log_tool_error(self, tool: str, message: str) -> None: ...


def _status(agent: dict[str, Any]) -> str:
    """'working', or 'working, 2 commands waiting': an agent runs one turn at a time."""
    waiting = agent["queued"]
    if not waiting:
        return str(agent["status"])
    return f"{agent['status']}, {waiting} command{'s' if waiting > 1 else ''} waiting"


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
    """The tools, bound to one session's control."""

    def __init__(self, control: SessionControl) -> None:
        self.control = control

    async def create_agent(self, args: dict[str, Any]) -> str:
        name = _required(args, "name")
        return await self.control.create_agent(
            name,
            _text(args, "system_prompt", False) or "",
            _text(args, "model", False),
            _text(args, "template", False),
            _number(args, "budget_usd"),
        )

    async def command_agent(self, args: dict[str, Any]) -> str:
        return await self.control.command_agent(
            _required(args, "agent_name"), _required(args, "command")
        )

    async def check_agent_status(self, args: dict[str, Any]) -> str:
        name = _required(args, "agent_name")
        tail = _int(args, "tail_count", 10, 1, 200)
        offset = _int(args, "offset", 0, 0, 100_000)
        verbose = bool(args.get("verbose", False))
        wait = _int(args, "wait_seconds", 0, 0, 600)
        reads = self.control.reads
        await reads.caught_up()
        agent = await reads.agent(self.control.session_id, name)
        if agent is None:
            raise ToolInputError(f"no agent called {name!r} in this session")
        deadline = time.monotonic() + wait
        while agent["status"] in BUSY and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            await reads.caught_up()
            agent = await reads.agent(self.control.session_id, name) or agent
        lines = [
            f"{agent['name']}: {_status(agent)} ({agent['model']})",
            f"task: {agent['current_task'] or '(none)'}",
            f"tokens: {agent['input_tokens']} in / {agent['output_tokens']} out, "
            f"cost {_usd(agent['cost_usd'])}, {agent['turns']} turns, "
            f"{agent['tool_uses']} tool uses",
        ]
        events = await reads.task_log(agent["agent_id"], agent["current_task"], tail, offset)
        if events:
            lines.append(f"last {len(events)} events of the task:")
            for row in events:
                detail = row["payload"] if verbose else row["summary"]
                lines.append(f"  #{row['notification_id']} {row['event_type']}: {detail}")
        return "\n".join(lines)

    async def list_agents(self, args: dict[str, Any]) -> str:
        await self.control.reads.caught_up()
        agents = await self.control.reads.agents(self.control.session_id)
        if not agents:
            return "No agents yet."
        return "\n".join(
            f"{a['name']}: {_status(a)}, {a['model']}, task {a['current_task'] or '-'}, "
            f"{_usd(a['cost_usd'])}"
            for a in agents
        )

    async def delete_agent(self, args: dict[str, Any]) -> str:
        return await self.control.delete_agent(_required(args, "agent_name"))

    async def interrupt_agent(self, args: dict[str, Any]) -> str:
        return await self.control.interrupt_agent(_required(args, "agent_name"))

    async def read_system_logs(self, args: dict[str, Any]) -> str:
        level = _text(args, "level", False)
        if level is not None and level not in LOG_LEVELS:
            raise ToolInputError(f"'level' must be one of {', '.join(LOG_LEVELS)}")
        limit = _int(args, "limit", 20, 1, 500)
        await self.control.reads.caught_up()
        rows = await self.control.reads.system_logs(level, limit)
        if not rows:
            return "The system log is empty."
        return "\n".join(f"{r['at']:%H:%M:%S} [{r['level']}] {r['message']}" for r in rows)

    async def report_cost(self, args: dict[str, Any]) -> str:
        await self.control.reads.caught_up()
        rows = await self.control.reads.costs(self.control.session_id)
        if not rows:
            return "No cost yet: total $0.0000."
        lines = ["per actor and model:"]
        by_model: dict[str, Decimal] = {}
        total = Decimal(0)
        for r in rows:
            who = "orchestrator" if r["actor_kind"] == "orchestrator" else r["actor_name"]
            lines.append(
                f"  {who} ({r['model']}): {_usd(r['cost_usd'])}, {r['turns']} turns, "
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
            except (DomainError, ToolInputError, UnknownTemplate) as error:
                message = f"{name} failed: {error}"
                await self.control.log_tool_error(name, message)
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
        "An agent's status, current task, the task's latest events, tokens and cost.",
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
    "list_agents": ("List this session's agents.", {"type": "object", "properties": {}}),
    "delete_agent": ("Delete an agent, interrupting it first if it is working.", _NAME_ONLY),
    "interrupt_agent": ("Stop what an agent is doing now.", _NAME_ONLY),
    "read_system_logs": (
        "Read podium's system log, newest last.",
        {
            "type": "object",
            "properties": {
                "level": {"type": "string", "enum": list(LOG_LEVELS)},
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


def management_server(control: SessionControl) -> McpSdkServerConfig:
    """The MCP server the orchestrator of one session uses."""
    return ManagementTools(control).server()


def qualified(name: str) -> str:
    """The name the model sees: mcp__podium__create_agent."""
    return f"mcp__{SERVER_NAME}__{name}"
