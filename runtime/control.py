"""What the orchestrator's tools do in a session: domain commands, through the log.

Commands are appended to the log like any other client's (a gateway's, a
person's); the runtime then reacts to them. The tools never drive an SDK
client directly, so the same commands work from anywhere.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

from domain.application import Podium
from domain.errors import AgentNotFound, BudgetExhausted
from runtime.queries import ReadModels
from runtime.templates import agent_template

EDIT_TOOLS = {"Write", "Edit", "MultiEdit", "NotebookEdit"}


class SessionTeam:
    """The agents of one session, as the orchestrator's tools see them."""

    def __init__(self, app: Podium, session_id: UUID, reads: ReadModels, cwd: Path) -> None:
        self.app = app
        self.session_id = session_id
        self.reads = reads
        self.cwd = cwd

    async def create_agent(
        self,
        name: str,
        system_prompt: str,
        model: str | None,
        template: str | None,
        budget_usd: float | None = None,
    ) -> str:
        tools: tuple[str, ...] = ()
        permission_mode = "acceptEdits"
        if template is not None:
            chosen = agent_template(template, self.cwd)
            system_prompt = "\n\n".join(p for p in (chosen.system_prompt, system_prompt) if p)
            model = model or chosen.model
            tools = chosen.tools
            if tools and not set(tools) & EDIT_TOOLS:
                permission_mode = "default"  # edits are asked for, and refused

        agent = await asyncio.to_thread(
            self.app.create_agent,
            self.session_id,
            name,
            model=model,
            system_prompt=system_prompt,
            template=template,
            cwd=".",
            allowed_tools=tools,
            permission_mode=permission_mode,
            budget_usd=budget_usd,
        )
        made_from = f" from the {template} template" if template else ""
        return f"Created agent {agent.name} ({agent.model}){made_from}, working in {self.cwd}."

    async def command(
        self, name: str, command: str, source: str, request: str | None = None
    ) -> str:
        """Give an agent a task (refused once the session's budget is spent); its slug.
        ``request``: the Idempotency-Key that asked for it (see Agent.command)."""
        session = await asyncio.to_thread(self.app.get_session, self.session_id)
        if session.budget_usd is not None:
            spent = await self.reads.session_spend(self.session_id)
            if spent >= session.budget_usd:
                raise BudgetExhausted("this session", session.budget_usd, spent)
        return await asyncio.to_thread(
            self.app.command_agent, self.session_id, name, command, source, request
        )

    async def command_agent(self, name: str, command: str) -> str:
        task = await self.command(name, command, "orchestrator")
        return (
            f"{name} started task '{task}' in the background. Use check_agent_status to follow it."
        )

    async def interrupt_agent(self, name: str, source: str = "orchestrator") -> str:
        agent = await asyncio.to_thread(self.app.find_agent, self.session_id, name)
        if agent.is_deleted:
            raise AgentNotFound(name)
        if agent.status not in ("working", "queued"):
            return f"{agent.name} is not working ({agent.status}); nothing to interrupt."
        agent.request_interrupt(source)
        await self.app.save_async(agent)
        return f"Interrupting {agent.name}."

    async def delete_agent(self, name: str, source: str = "orchestrator") -> str:
        await asyncio.to_thread(
            self.app.delete_agent, self.session_id, name, f"deleted by the {source}"
        )
        return f"Deleted {name}."

    async def log_tool_error(self, tool: str, message: str) -> None:
        await asyncio.to_thread(
            self.app.write_system_log, "warning", message, {"tool": tool}, self.session_id
        )
