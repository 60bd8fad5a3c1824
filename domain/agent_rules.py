"""The rules of an agent that need no aggregate: its model, its directory, its
tasks' names, what a template makes of it, and what a turn reports."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any, NamedTuple

import msgspec

from domain.errors import DirectoryOutsideSession, InvalidModel
from domain.events import Usage, check_cost
from domain.names import check_agent_name
from domain.permissions import NO_RULES, Permissions

DEFAULT_MODEL = "claude-sonnet-4-5"
MODEL_NAME = re.compile(r"(claude-[a-z0-9][a-z0-9.-]{1,60}(\[1m\])?|sonnet|opus|haiku)")
# Tools that change files: a template's agent without any of them is asked
# before an edit (and refused), instead of accepting edits.
EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})


def check_agent_cwd(cwd: str) -> str:
    """An agent works in its session's directory or below: a relative path, no '..'."""
    path = PurePosixPath(cwd)
    if path.is_absolute() or ".." in path.parts:
        raise DirectoryOutsideSession(cwd)
    return cwd


def check_model(model: str) -> str:
    if not MODEL_NAME.fullmatch(model):
        raise InvalidModel(model)
    return model


def check_agent(name: str, cwd: str, model: str | None, budget_usd: float | None) -> None:
    """What a new agent is given: a valid name, directory, model and budget."""
    check_agent_name(name)
    check_agent_cwd(cwd)
    if model is not None:
        check_model(model)
    if budget_usd is not None:
        check_cost(budget_usd)


def task_slug(command: str, max_words: int = 5) -> str:
    """A short, readable slug of a command: 'Create a hello app' -> 'create-a-hello-app'."""
    words = re.findall(r"[a-z0-9]+", command.lower())[:max_words]
    return "-".join(words)[:48] or "task"


def unique_task(slug: str, taken: set[str]) -> str:
    """The slug, or the first of slug-2, slug-3, ... not taken yet."""
    task, n = slug, 1
    while task in taken:
        n += 1
        task = f"{slug}-{n}"
    return task


class WaitingCommand(NamedTuple):
    """A command the agent has not started yet."""

    task: str
    command: str


class AgentTemplate(msgspec.Struct, frozen=True):
    """A kind of agent (builder, reviewer, ...): where it comes from is the edge's
    business (runtime/templates.py reads Claude Code's agent files)."""

    name: str
    description: str
    model: str | None
    tools: tuple[str, ...]
    system_prompt: str
    permissions: Permissions = NO_RULES  # its layer of rules, given to the agents it makes


class AgentSetup(msgspec.Struct, frozen=True, kw_only=True):
    """What an agent is created with: what was asked, completed by its template."""

    system_prompt: str = ""
    model: str | None = None
    template: str | None = None
    allowed_tools: tuple[str, ...] = ()
    permission_mode: str = "acceptEdits"
    template_permissions: Permissions = NO_RULES

    @classmethod
    def of(
        cls, system_prompt: str, model: str | None, template: AgentTemplate | None
    ) -> AgentSetup:
        """The template's prompt before the one given, its model unless one is
        given, its tools as the agent's only ones, its rules as a layer."""
        if template is None:
            return cls(system_prompt=system_prompt, model=model)
        tools = template.tools
        return cls(
            system_prompt="\n\n".join(p for p in (template.system_prompt, system_prompt) if p),
            model=model or template.model,
            template=template.name,
            allowed_tools=tools,
            permission_mode="default" if tools and not set(tools) & EDIT_TOOLS else "acceptEdits",
            template_permissions=template.permissions,
        )

    def options(self) -> dict[str, Any]:
        """As ``Agent.create`` (and ``Podium.create_agent``) take them."""
        return msgspec.structs.asdict(self)


class TurnReport(msgspec.Struct, frozen=True, kw_only=True):
    """What Claude Code says of a turn that ended: its usage, its own cost, and
    whether (and why) it ended in an error."""

    usage: Usage
    cost_usd: float
    duration_ms: int
    num_turns: int
    claude_session_id: str
    is_error: bool = False
    error: str = ""  # what went wrong, when is_error
