"""How the runtime runs agents: where, with which environment, within which limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from claude_agent_sdk.types import SessionStore

from runtime.sandbox import Confinement

DEFAULT_WORKER_TOOLS = ("Read", "Write", "Edit", "MultiEdit", "Bash", "Glob", "Grep", "TodoWrite")


@dataclass(frozen=True)
class RuntimeSettings:
    """The runtime's knobs; ``cli_env`` is added to the CLI's inherited environment
    (with podium's secrets blanked: runtime/sandbox.py).

    In real mode ``cli_env`` is empty: the CLI talks to whatever the user's
    environment says (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, proxies). Only
    demo mode and tests point it at the model double. ``confinement`` says
    whether Bash runs in Claude Code's sandbox here, and what it may reach.
    """

    cwd: Path
    cli_env: dict[str, str] = field(default_factory=dict)
    max_agents: int = 8  # agents working at once; more commands wait in a queue
    idle_seconds: float = 600.0  # an idle agent's CLI process is closed after this
    approval_timeout: float = 3600.0  # a request nobody decides on expires after this
    allow_all: bool = False  # `podium up --permissions allow-all`: nothing asks (loudly)
    session_store: SessionStore | None = None
    worker_tools: tuple[str, ...] = DEFAULT_WORKER_TOOLS
    confinement: Confinement = field(default_factory=Confinement.here)
