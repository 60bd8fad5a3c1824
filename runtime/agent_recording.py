"""What a worker agent does, as events on its stream.

Messages from the SDK (text, thinking, the turn's result) and Claude Code's
hooks (every tool call before and after it runs, and the rest) become domain
events through the agent's journal. A file tool's call produces a
FileChanged event with the diff of its file before and after, and a Bash
call one for each file the command changed in the agent's folder
(runtime/worktree.py: git's diff in a git work tree). A tool Claude Code
asks about is answered by podium's rules as the log holds them, or becomes
an approval request that waits for a person's decision (runtime/approvals.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from claude_agent_sdk import (
    AssistantMessage,
    HookContext,
    HookMatcher,
    Message,
    PermissionResultAllow,
    PermissionResultDeny,
    ResultMessage,
    StreamEvent,
    TextBlock,
    ThinkingBlock,
    ToolPermissionContext,
)
from claude_agent_sdk.types import HookEvent, HookInput, HookJSONOutput

from domain.agent import Agent
from domain.approval import Approval
from domain.errors import AlreadyDecided
from domain.permissions import Outcome, Permissions, ruling
from domain.statuses import IN_TURN, AgentStep, next_status
from runtime.approvals import (
    NO_RULE,
    SANDBOX_NETWORK,
    TURN_OVER_REASON,
    Decisions,
    PermissionResult,
    agent_layers,
    permission_result,
    place_of,
    refusal,
    sandbox_stays,
)
from runtime.confinement import is_inside, target_path
from runtime.deltas import DeltaSink, text_delta
from runtime.journal import Journal
from runtime.settings import RuntimeSettings
from runtime.turns import TurnCosts
from runtime.worktree import FOLDERS, Change, Folders, Snapshot, compare, take

OTHER_HOOKS: tuple[HookEvent, ...] = (
    "UserPromptSubmit",
    "Stop",
    "SubagentStart",
    "SubagentStop",
    "Notification",
    "PreCompact",
)
SHELL_TOOL = "Bash"  # its changes are found by comparing the whole folder (runtime/worktree.py)


def _file_scope(path: Path, cwd: Path) -> tuple[Path, str]:
    """The folder to look at for a file tool's file, and the file's name in it:
    the agent's folder when the file is inside, else the file's own folder."""
    return (cwd, str(path.relative_to(cwd))) if is_inside(path, cwd) else (path.parent, path.name)


class AgentRecording:
    """Records one agent's Claude Code session; its hooks go into the SDK options."""

    def __init__(
        self,
        journal: Journal[Agent],
        cwd: Path,
        live: DeltaSink,
        on_turn_completed: Callable[[Agent], Awaitable[None]],
        *,
        decisions: Decisions,
        settings: RuntimeSettings,
        folders: Folders = FOLDERS,
    ) -> None:
        self.journal = journal
        self.decisions = decisions
        self.settings = settings  # podium's defaults, and whether anything asks at all
        self.asking: set[UUID] = set()  # this agent's requests waiting for a decision
        self.on_turn_completed = on_turn_completed  # the session's budget is the runtime's
        self.cwd = cwd.resolve()
        self.live = live
        self.costs = TurnCosts()
        self.folders = folders
        self._watched: dict[str, str] = {}  # tool calls whose changes are looked for: their tools
        self._before: dict[str, tuple[Path, str, Snapshot | None]] = {}  # file tools' files

    def hooks(self) -> dict[HookEvent, list[HookMatcher]]:
        hooks: dict[HookEvent, list[HookMatcher]] = {
            "PreToolUse": [HookMatcher(hooks=[self.pre_tool_use])],
            "PostToolUse": [HookMatcher(hooks=[self.post_tool_use])],
            "PostToolUseFailure": [HookMatcher(hooks=[self.post_tool_use_failure])],
        }
        for name in OTHER_HOOKS:
            hooks[name] = [HookMatcher(hooks=[self.other_hook])]
        return hooks

    # --- hooks ----------------------------------------------------------------

    async def pre_tool_use(
        self, data: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        tool = str(data.get("tool_name", ""))
        raw_input = data.get("tool_input")
        tool_input: dict[str, Any] = dict(raw_input) if isinstance(raw_input, dict) else {}
        use_id = tool_use_id or str(data.get("tool_use_id", ""))
        await self.journal.write(lambda a: a.request_tool_use(use_id, tool, tool_input))
        # Whether the tool may run is the rules' (a file outside the agent's
        # directory asks: can_use_tool); here what it may change is looked at
        # first, for the diff: a file tool's file, or all the folder for Bash.
        path = target_path(tool, tool_input, self.cwd)
        if path is not None:
            root, name = _file_scope(path, self.cwd)
            self._before[use_id] = (root, name, await asyncio.to_thread(take, root, name))
            self._watched[use_id] = tool
        elif tool == SHELL_TOOL:
            self._watched[use_id] = tool
            await asyncio.to_thread(self.folders.begin, self.cwd, use_id)
        return {}

    async def post_tool_use(
        self, data: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        await self._completed(data, tool_use_id, data.get("tool_response"), is_error=False)
        return {}

    async def post_tool_use_failure(
        self, data: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        await self._completed(data, tool_use_id, data.get("error"), is_error=True)
        return {}

    async def _completed(
        self, data: HookInput, tool_use_id: str | None, output: Any, is_error: bool
    ) -> None:
        tool = str(data.get("tool_name", ""))
        use_id = tool_use_id or str(data.get("tool_use_id", ""))
        await self.journal.write(lambda a: a.complete_tool_use(use_id, tool, output, is_error))
        # A failed call may have changed files too (a command that stopped half-way).
        await self._record_changes(use_id)

    async def _record_changes(self, use_id: str) -> None:
        """What the tool call changed, one FileChanged per file."""
        tool = self._watched.pop(use_id, None)
        if tool is None:
            return
        if tool == SHELL_TOOL:
            root = self.cwd
            found = await asyncio.to_thread(self.folders.end, root, use_id)
        else:
            root, name, snapshot = self._before.pop(use_id)
            found = await asyncio.to_thread(lambda: compare(snapshot, take(root, name, snapshot)))
        for change in found:
            await self.journal.write(partial(self._record, change, root, tool, use_id))

    def _record(self, change: Change, root: Path, tool: str, use_id: str, agent: Agent) -> None:
        previous = change.previous_path
        agent.record_file_change(
            self._shown(root, change.path),
            change.kind,
            change.diff,
            tool=tool,
            tool_use_id=use_id,
            previous_path=None if previous is None else self._shown(root, previous),
        )

    def _shown(self, root: Path, name: str) -> str:
        """A path as recorded: relative to the agent's folder, else absolute."""
        path = root / name
        return str(path.relative_to(self.cwd)) if is_inside(path, self.cwd) else str(path)

    async def other_hook(
        self, data: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        hook = str(data.get("hook_event_name", "Hook"))
        details = {
            k: v
            for k, v in data.items()
            if k not in ("hook_event_name", "session_id", "transcript_path", "cwd")
        }
        await self.journal.write(lambda a: a.fire_hook(hook, None, details))
        return {}

    async def can_use_tool(
        self, tool: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResult:
        """Claude Code asks before a tool its settings do not allow. podium's
        rules, as the log holds them now, answer first; what they leave to a
        person is recorded as a request, the agent awaits approval (others
        carry on), and the decision, whoever makes it, is the answer."""
        use_id = context.tool_use_id or uuid4().hex
        found = ruling(await self._layers(), tool, tool_input, place_of(self.cwd))
        if found is not None and found.outcome is Outcome.DENY:
            return await self._refused(use_id, tool, refusal(tool, found.rule))
        if self.settings.allow_all and tool == SANDBOX_NETWORK:
            return await self._refused(use_id, tool, sandbox_stays(tool_input))
        if self.settings.allow_all or (found is not None and found.outcome is Outcome.ALLOW):
            return PermissionResultAllow()
        agent = self.journal.aggregate
        request = Approval.request(
            agent_id=agent.id,
            session_id=agent.session_id,
            agent=agent.name,
            task=agent.task,
            tool=tool,
            tool_use_id=use_id,
            tool_input=tool_input,
            rule=NO_RULE if found is None else found.rule.text,
        )
        approval = await asyncio.to_thread(self.journal.app.request_approval, request)
        self.asking.add(approval.id)
        try:
            await self._step(AgentStep.ASKED, f"{tool} waits for approval")
            decided = await self.decisions.wait(approval.id)
        finally:
            self.asking.discard(approval.id)
        if not self.asking:
            await self._step(AgentStep.ANSWERED, f"{tool} was {decided.status}")
        result = permission_result(decided, tool)
        if isinstance(result, PermissionResultDeny):
            return await self._refused(use_id, tool, result)
        return result

    async def _layers(self) -> tuple[Permissions, ...]:
        """podium's layers of rules for the agent, least specific first, as the
        log holds them now (a grant made since the CLI started is among them)."""
        app, agent = self.journal.app, self.journal.aggregate
        last = await asyncio.to_thread(app.recorder.select_events, agent.id, desc=True, limit=1)
        if last:
            await self.journal.catch_up(last[0].originator_version)
        agent = self.journal.aggregate
        session = await asyncio.to_thread(app.get_session, agent.session_id)
        return (self.settings.confinement.defaults(), *agent_layers(session, agent))

    async def _refused(
        self, use_id: str, tool: str, result: PermissionResultDeny
    ) -> PermissionResultDeny:
        """No hook says so: the refused tool use ends here."""
        said = result.message
        await self.journal.write(lambda a: a.complete_tool_use(use_id, tool, said, True))
        return result

    async def give_up(self, reason: str) -> None:
        """The turn is being stopped: what it still asks expires (a decision that
        came first stands), so the waits end, and the queue shows no request
        nobody will act on."""
        for approval_id in list(self.asking):
            with contextlib.suppress(AlreadyDecided):
                await asyncio.to_thread(self.journal.app.expire_approval, approval_id, reason)

    async def _step(self, step: AgentStep, reason: str) -> None:
        """Move the agent's status a step of its turn (an interrupted one stays so)."""

        def change(agent: Agent) -> None:
            if agent.status not in IN_TURN:
                return
            status = next_status(agent.status, step, bool(agent.waiting))
            if status is not agent.status:
                agent.change_status(status, reason)

        await self.journal.write(change)

    # --- messages -------------------------------------------------------------

    async def message(self, message: Message) -> None:
        """Record one message of the agent's session."""
        if isinstance(message, StreamEvent):
            if (text := text_delta(message.event)) is not None:
                agent = self.journal.aggregate
                self.live.publish(
                    "agent_text_delta",
                    {
                        "agent_id": str(agent.id),
                        "agent": agent.name,
                        "session_id": str(agent.session_id),
                        "text": text,
                    },
                )
        elif isinstance(message, AssistantMessage) and message.parent_tool_use_id is None:
            for block in message.content:
                if isinstance(block, TextBlock) and block.text.strip():
                    await self.journal.write(partial(Agent.emit_text, text=block.text))
                elif isinstance(block, ThinkingBlock) and block.thinking.strip():
                    await self.journal.write(partial(Agent.emit_thinking, text=block.thinking))
        elif isinstance(message, ResultMessage):
            await self.result(message)

    async def result(self, result: ResultMessage) -> None:
        """The turn ended: the agent decides what that means (domain/agent.py)."""
        # What the turn still asks nobody can act on any more (the sandbox's
        # question for a host outlives the command that needed it).
        await self.give_up(TURN_OVER_REASON)
        # A call that never said it ended (interrupted, refused): what it
        # changed is recorded now.
        for use_id in list(self._watched):
            await self._record_changes(use_id)
        report = self.costs.report(result)
        await self.journal.write(lambda agent: agent.finish_turn(report))
        await self.on_turn_completed(self.journal.aggregate)
