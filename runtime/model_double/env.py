"""The environment that points the bundled Claude Code CLI at a model double.

The SDK starts the CLI with the parent's environment overlaid by
`ClaudeAgentOptions.env`, so this mapping both sets what the CLI needs and
blanks what would send it elsewhere (OAuth tokens, Bedrock/Vertex switches,
proxies for 127.0.0.1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

# Variables that, inherited from the parent, would make the CLI use another
# provider, another credential, or another model than the one asked for.
_NEUTRALISED = (
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
    "ANTHROPIC_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
    "ANTHROPIC_CUSTOM_HEADERS",
)


class HasBaseUrl(Protocol):
    @property
    def base_url(self) -> str: ...


@runtime_checkable
class ServesPages(Protocol):
    """A double whose HTTPS site WebFetch reaches (its certificate, or None)."""

    @property
    def certificate(self) -> Path | None: ...


def api_env(double: HasBaseUrl | str) -> dict[str, str]:
    """The API settings that point a client (the CLI, the summarizer) at `double`."""
    base_url = double if isinstance(double, str) else double.base_url
    return {"ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": "sk-ant-model-double"}


def cli_env(
    double: HasBaseUrl | str,
    home: Path,
    *,
    tool_search: bool = True,
    max_retries: int | None = 2,
) -> dict[str, str]:
    """Environment variables for a CLI that talks to `double` with a private `home`.

    tool_search: True keeps the CLI's default (MCP tools deferred behind its
    ToolSearch tool); False sets ENABLE_TOOL_SEARCH=false (all tools up front).
    max_retries: CLAUDE_CODE_MAX_RETRIES. The CLI's own default is 10 retries
    with exponential backoff (about three minutes before an outage surfaces);
    2 makes a persistent fault surface in about two seconds. None keeps the
    CLI's default.
    """
    config_dir = home / ".claude"
    config_dir.mkdir(parents=True, exist_ok=True)
    env = dict.fromkeys(_NEUTRALISED, "")
    env.update(api_env(double))
    env.update(
        {
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "HOME": str(home),
            "CLAUDE_CONFIG_DIR": str(config_dir),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    if isinstance(double, ServesPages) and double.certificate is not None:
        env["NODE_EXTRA_CA_CERTS"] = str(double.certificate)  # WebFetch trusts the double's site
    if not tool_search:
        env["ENABLE_TOOL_SEARCH"] = "false"
    if max_retries is not None:
        env["CLAUDE_CODE_MAX_RETRIES"] = str(max_retries)
    return env
