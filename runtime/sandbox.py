"""Confining agents beyond their file tools: Claude Code's own sandbox for Bash,
deny rules for the file tools, and an environment without podium's secrets.

Claude Code runs each Bash command in its sandbox (bubblewrap and socat on
Linux, Seatbelt on macOS): writes only inside the agent's directory, network
only through its proxy, to the allowed domains. The CLI is told to refuse to
start rather than run Bash unsandboxed, and never to let the model opt out
of the sandbox. podium's default permission rules (domain/permissions.py),
merged with the session's, the template's and the agent's, are handed to the
CLI as its settings: their ``Read(//path/**)`` deny rules keep Read, Grep and
Glob out of podium's data folder and the user's credentials, and the sandbox
applies the same rules to what Bash reads.

Where the sandbox cannot run, Bash is not pre-approved: Claude Code asks
``can_use_tool``, which records an approval request (runtime/approvals.py).
File tools are never pre-approved as a whole: inside the agent's directory
the rules and the permission mode allow them; outside, Claude Code asks.

The SDK starts the CLI with podium's own environment overlaid by
``ClaudeAgentOptions.env``, and cannot remove a variable from it, so each
secret is overlaid with an empty value.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, cast

from claude_agent_sdk.types import SandboxSettings

from domain.permissions import (
    EDIT_TOOLS,
    READ_TOOLS,
    Permissions,
    Rule,
    defaults,
    merge,
    path_rules,
)

INSTALL_COMMAND = "apt-get install bubblewrap socat"
LINUX_PROGRAMS = ("bwrap", "socat")  # what Claude Code's sandbox runs on Linux
# Where the user keeps credentials, relative to the home folder: no agent reads them.
HOME_SECRETS = (
    ".ssh",
    ".aws",
    ".gnupg",
    ".config/gcloud",
    ".kube",
    ".docker",
    ".azure",
    ".config/gh",
    ".netrc",
    ".pgpass",
    ".git-credentials",
    ".claude.json",
    ".claude/.credentials.json",
)
SYSTEM_SECRETS = ("/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ssl/private")
# Loopback addresses other than 127.0.0.1, where podium's gateway and a local
# PostgreSQL listen: the model double gets one of its own, so allowing its
# address does not open those (the sandbox's proxy filters by host, not port).
PRIVATE_LOOPBACK = "127.0.0.2"
FILE_TOOLS = READ_TOOLS | EDIT_TOOLS


def missing_programs(path: str | None = None) -> list[str]:
    """What Claude Code's sandbox needs and this machine lacks (``path``: a
    PATH to search instead of the environment's)."""
    if sys.platform == "darwin":
        return []  # Seatbelt is part of macOS
    if not sys.platform.startswith("linux"):
        return ["a Linux or macOS host"]
    return [program for program in LINUX_PROGRAMS if shutil.which(program, path=path) is None]


def unavailable_notice(missing: list[str]) -> str:
    """The one line podium prints at start-up when agents cannot be sandboxed."""
    return (
        f"podium: no sandbox for agents' commands ({', '.join(missing)} missing): "
        f"every Bash command waits for a person's approval; install it with `{INSTALL_COMMAND}`"
    )


def private_loopback() -> str:
    """A loopback address only the model double listens on, where the host has one."""
    with socket.socket() as probe:
        try:
            probe.bind((PRIVATE_LOOPBACK, 0))
        except OSError:  # macOS configures 127.0.0.1 alone
            return "127.0.0.1"
    return PRIVATE_LOOPBACK


def is_secret(name: str) -> bool:
    """podium's own settings and anything libpq would connect with."""
    return name == "DATABASE_URL" or name.startswith(("PODIUM_", "PG"))


def agent_environment(
    overlay: Mapping[str, str], inherited: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``ClaudeAgentOptions.env`` for an agent: ``overlay`` (e.g. demo mode's),
    with every secret of the inherited environment blanked. The rest (the
    user's ANTHROPIC_* and proxy settings) passes through untouched."""
    environ = os.environ if inherited is None else inherited
    return {**dict.fromkeys(filter(is_secret, environ), ""), **overlay}


def _secret_paths(home: Path, data_dir: Path | None) -> tuple[Path, ...]:
    paths = [home / relative for relative in HOME_SECRETS]
    paths.extend(Path(p) for p in SYSTEM_SECRETS)
    if data_dir is not None:
        paths.append(data_dir)
    return tuple(paths)


def absolute(path: Path) -> PurePosixPath:
    """The path as Claude Code's rules name it: absolute, links resolved."""
    return PurePosixPath(path.expanduser().resolve().as_posix())


def deny_rules(tool: str, path: Path) -> list[str]:
    """Claude Code permission rules for ``path`` and everything under it."""
    return path_rules(tool, absolute(path))


@dataclass(frozen=True)
class Confinement:
    """How podium confines agents on this machine."""

    sandboxed: bool
    denied_paths: tuple[Path, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    # Claude Code asks api.anthropic.com whether a host may be fetched before
    # WebFetch fetches it; demo mode's pages are the model double's, offline.
    web_fetch_preflight: bool = True

    @classmethod
    def here(
        cls,
        *,
        data_dir: Path | None = None,
        allowed_domains: Iterable[str] = (),
        path: str | None = None,
        web_fetch_preflight: bool = True,
    ) -> Confinement:
        """Detect the sandbox's programs; deny the data folder and the usual secrets."""
        missing = tuple(missing_programs(path))
        return cls(
            sandboxed=not missing,
            denied_paths=_secret_paths(Path.home(), data_dir),
            allowed_domains=tuple(dict.fromkeys(allowed_domains)),
            missing=missing,
            web_fetch_preflight=web_fetch_preflight,
        )

    @property
    def notice(self) -> str | None:
        return None if self.sandboxed else unavailable_notice(list(self.missing))

    def sandbox(self) -> SandboxSettings | None:
        """The SDK's sandbox option, or None where the sandbox cannot run."""
        if not self.sandboxed:
            return None
        settings: dict[str, Any] = {
            "enabled": True,
            "failIfUnavailable": True,  # the CLI refuses to start rather than run Bash bare
            "autoAllowBashIfSandboxed": True,
            "allowUnsandboxedCommands": False,  # the model cannot opt a command out
            "excludedCommands": [],
            "network": {"allowedDomains": list(self.allowed_domains)},
        }
        return cast(SandboxSettings, settings)  # the SDK's type lacks failIfUnavailable

    def defaults(self) -> Permissions:
        """podium's layer of rules on this machine: Bash allowed in the sandbox,
        asked about without it; the secret paths denied."""
        return defaults(sandboxed=self.sandboxed, secrets=map(absolute, self.denied_paths))

    def settings(self, *layers: Permissions, asking: bool = True) -> str:
        """The CLI's flag settings (the SDK adds the sandbox's): podium's rules
        merged with ``layers`` (the session's, the template's, the agent's, least
        specific first). Unsandboxed, every command is asked about, even those
        Claude Code would take as harmless (echo, ls, a redirect into the
        directory). Not ``asking`` (``--permissions allow-all``): the ask rules
        go, the deny rules (the secrets) stay."""
        merged = merge(self.defaults(), *layers)
        if not asking:
            merged = Permissions(allow=merged.allow, deny=merged.deny)
        preflight = {} if self.web_fetch_preflight else {"skipWebFetchPreflight": True}
        return json.dumps({"permissions": merged.settings(), **preflight})

    def pre_approved(self, tools: Iterable[str]) -> list[str]:
        """The tools an agent may use without asking: all but those podium's
        rules ask about as a whole (Bash outside the sandbox, the network tools,
        which reach the network from the CLI, outside the sandbox; a template
        from the workspace may list them), and the file tools, which the rules
        and the permission mode allow inside the agent's directory only (a
        whole-tool approval would let them anywhere: outside, Claude Code asks)."""
        asked = {rule.tool for rule in map(Rule.parse, self.defaults().ask) if not rule.specifier}
        return [t for t in tools if t not in asked and t not in FILE_TOOLS]
