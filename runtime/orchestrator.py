"""The orchestrator: the agent a person chats with, one SDK client per session.

It has no file or shell tools of its own, only the management tools, and it
handles one message at a time: a message sent while it is still answering
waits for the turn to end.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from importlib import resources
from pathlib import Path

from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    ClaudeSDKClient,
    Message,
    ResultMessage,
    StreamEvent,
    TextBlock,
    ToolUseBlock,
)

from domain.application import Podium
from domain.session import Session
from runtime.clients import close_client
from runtime.deltas import DeltaSink, text_delta
from runtime.journal import Journal
from runtime.sandbox import agent_environment
from runtime.settings import RuntimeSettings
from runtime.templates import expand_workflow
from runtime.tools import SERVER_NAME, TOOL_NAMES, ManagementTools, qualified
from runtime.turns import TurnCosts

logger = logging.getLogger(__name__)
ORCHESTRATOR_MODEL = "claude-sonnet-4-5"


def system_prompt() -> str:
    return resources.files("runtime").joinpath("orchestrator_prompt.md").read_text("utf-8")


class Orchestrator:
    def __init__(
        self,
        app: Podium,
        session: Session,
        settings: RuntimeSettings,
        tools: ManagementTools,
        live: DeltaSink,
        *,
        cwd: Path,
    ) -> None:
        self.journal = Journal(app, session)
        self.cwd = cwd  # the session's directory: its own workflows live there
        self.settings = settings
        self.tools = tools
        self.live = live
        self.costs = TurnCosts()
        self.client: ClaudeSDKClient | None = None
        self._reader: asyncio.Task[None] | None = None
        self._turn_done = asyncio.Event()
        self._turn_done.set()
        self._one_message_at_a_time = asyncio.Lock()

    def options(self) -> ClaudeAgentOptions:
        session = self.journal.aggregate
        return ClaudeAgentOptions(
            model=ORCHESTRATOR_MODEL,
            system_prompt=system_prompt(),
            cwd=str(self.cwd),
            tools=[],  # no built-in tools: the orchestrator manages, agents do the work
            mcp_servers={SERVER_NAME: self.tools.server()},
            allowed_tools=[qualified(name) for name in TOOL_NAMES],
            include_partial_messages=True,
            # With no built-in tools there is no ToolSearch to load deferred MCP tools.
            env=agent_environment({**self.settings.cli_env, "ENABLE_TOOL_SEARCH": "false"}),
            resume=session.claude_session_id,
            session_store=self.settings.session_store,
            setting_sources=[],
        )

    async def answer(self, text: str) -> None:
        """Hand the person's message (already in the log) to the orchestrator."""
        async with self._one_message_at_a_time:
            await self._connect()
            assert self.client is not None
            self._turn_done.clear()
            await self.client.query(expand_workflow(text, self.cwd))
            await self._turn_done.wait()

    @property
    def answering(self) -> bool:
        """A turn is in progress: a message was handed over and its result is due."""
        return not self._turn_done.is_set()

    async def interrupt(self, reason: str) -> None:
        """Stop; a turn this cuts short is recorded as the session's interruption."""
        if self.answering:
            await self.journal.write(lambda session: session.cut_short(reason))
        await self.close()

    async def close(self) -> None:
        client, reader = self.client, self._reader
        self.client, self._reader = None, None
        await close_client(client, reader)
        self._turn_done.set()

    async def _connect(self) -> None:
        if self.client is not None and self._reader is not None and not self._reader.done():
            return
        await self.close()
        client = ClaudeSDKClient(self.options())
        await client.connect()
        self.client = client
        self.costs.restart()
        self._reader = asyncio.create_task(self._read(client), name="read orchestrator")

    async def _read(self, client: ClaudeSDKClient) -> None:
        try:
            async for message in client.receive_messages():
                try:
                    await self._record(message)
                except Exception:
                    logger.exception("could not record an orchestrator message")
                if isinstance(message, ResultMessage):
                    self._turn_done.set()
        finally:
            self._turn_done.set()

    async def _record(self, message: Message) -> None:
        session_id = str(self.journal.aggregate.id)
        if isinstance(message, StreamEvent):
            if (text := text_delta(message.event)) is not None:
                self.live.publish(
                    "orchestrator_text_delta", {"session_id": session_id, "text": text}
                )
        elif isinstance(message, AssistantMessage):
            for block in message.content:
                if isinstance(block, TextBlock) and block.text.strip():
                    await self.journal.write(partial(Session.record_reply, text=block.text))
                elif isinstance(block, ToolUseBlock):
                    record = partial(
                        Session.record_tool_use,
                        tool_use_id=block.id,
                        tool=block.name,
                        tool_input=block.input,
                    )
                    await self.journal.write(record)
        elif isinstance(message, ResultMessage):
            cost = self.costs.turn_cost(message)
            usage = self.costs.turn_usage(message)  # sub-agents' tokens too, per model
            model = next(iter(message.model_usage or {}), ORCHESTRATOR_MODEL)
            await self.journal.write(
                lambda s: s.complete_turn(
                    usage,
                    cost_usd=cost,
                    duration_ms=message.duration_ms,
                    num_turns=message.num_turns,
                    claude_session_id=message.session_id,
                    model=model,
                    is_error=message.is_error,
                )
            )
