"""What a Messages API request says, read the way a scenario needs it.

The Claude Code CLI wraps what the user typed in system reminders, appends
reminders to tool results, and lists deferred MCP tools by name only (behind
its ToolSearch tool). This module sees through all of that: the user's own
words, the last tool result, which tools can be called now, which are only
offered, and how far a script has progressed since the user last spoke.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

TOOL_SEARCH = "ToolSearch"

_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.DOTALL)
_DEFERRED_LIST = re.compile(
    r"<system-reminder>\s*The following deferred tools are now available via ToolSearch"
    r".*?:\n(.*?)</system-reminder>",
    re.DOTALL,
)
_CWD = re.compile(r"Primary working directory: (\S[^\n]*)")

Message = dict[str, Any]


def blocks_of(message: Message) -> list[dict[str, Any]]:
    """A message's content as a list of blocks (the API also allows a bare string)."""
    content = message.get("content", [])
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [block for block in content if isinstance(block, dict)]


def without_reminders(text: str) -> str:
    """The text with the CLI's `<system-reminder>` spans removed."""
    return _REMINDER.sub("", text).strip()


def tool_result_text(block: dict[str, Any]) -> str:
    """The text a tool_result carries (tool references read as `loaded: name`)."""
    content = block.get("content", "")
    if isinstance(content, str):
        return without_reminders(content)
    parts = []
    for item in content:
        if item.get("type") == "text":
            parts.append(without_reminders(item.get("text", "")))
        elif item.get("type") == "tool_reference":
            parts.append(f"loaded: {item.get('tool_name', '')}")
    return "\n".join(part for part in parts if part)


def _is_real_user_message(message: Message) -> bool:
    """A user message with words of its own, not a tool result or reminders only."""
    if message.get("role") != "user":
        return False
    blocks = blocks_of(message)
    if any(block.get("type") == "tool_result" for block in blocks):
        return False
    return any(
        block.get("type") == "text" and without_reminders(block.get("text", "")) for block in blocks
    )


def _tool_uses(message: Message) -> list[dict[str, Any]]:
    return [block for block in blocks_of(message) if block.get("type") == "tool_use"]


@dataclass(frozen=True)
class Conversation:
    """The parts of one request that rules match and scripts depend on."""

    model: str
    system: str
    user_text: str
    tool_result: str | None
    tool_result_name: str | None
    turns_since_user: int
    callable_tools: tuple[str, ...]
    offered_tools: tuple[str, ...]
    searched_tools: frozenset[str]
    cwd: str
    session_id: str
    last_message_key: str
    thinking_enabled: bool

    def resolve(self, wanted: str) -> str | None:
        """The offered tool a scenario means by `wanted`.

        An exact name wins; otherwise `mcp__<server>__<wanted>`, preferring the
        `podium` server, so scenarios need not know the MCP server's name.
        """
        return resolve_tool(wanted, self.offered_tools)

    def can_call(self, name: str) -> bool:
        return name in self.callable_tools


def resolve_tool(wanted: str, names: tuple[str, ...]) -> str | None:
    """`wanted` itself, or the `mcp__*__wanted` tool among `names` (podium's first)."""
    if wanted in names:
        return wanted
    suffix = f"__{wanted}"
    candidates = sorted(n for n in names if n.startswith("mcp__") and n.endswith(suffix))
    preferred = [n for n in candidates if n == f"mcp__podium{suffix}"]
    return (preferred or candidates)[0] if candidates else None


def read_conversation(body: dict[str, Any], session_id: str = "") -> Conversation:
    """Analyse one `/v1/messages` request body."""
    messages: list[Message] = [m for m in body.get("messages", []) if isinstance(m, dict)]
    tools = [t for t in body.get("tools", []) if isinstance(t, dict) and "name" in t]
    last_user = max((i for i, m in enumerate(messages) if _is_real_user_message(m)), default=-1)
    user_text = ""
    if last_user >= 0:
        texts = [
            without_reminders(block.get("text", ""))
            for block in blocks_of(messages[last_user])
            if block.get("type") == "text"
        ]
        user_text = [text for text in texts if text][-1]

    tool_result, tool_result_name = _last_tool_result(messages)
    referenced = _tool_references(messages)
    callable_tools = tuple(
        t["name"] for t in tools if not t.get("defer_loading") or t["name"] in referenced
    )
    everything_said = _all_text(body)
    deferred = [
        line.strip()
        for listing in _DEFERRED_LIST.findall(everything_said)
        for line in listing.splitlines()
        if line.strip()
    ]
    offered = tuple(dict.fromkeys([*(t["name"] for t in tools), *deferred]))
    cwd_match = _CWD.search(everything_said)
    return Conversation(
        model=str(body.get("model", "claude-sonnet-4-5")),
        system=_system_text(body.get("system")),
        user_text=user_text,
        tool_result=tool_result,
        tool_result_name=tool_result_name,
        turns_since_user=_scripted_turns(messages[last_user + 1 :]),
        callable_tools=callable_tools,
        offered_tools=offered,
        searched_tools=_searched_in_last_turn(messages),
        # Unknown, "." keeps `{cwd}/file` relative, which Write refuses, never "/file".
        cwd=cwd_match.group(1).strip() if cwd_match else ".",
        session_id=session_id,
        last_message_key=_fingerprint(messages),
        thinking_enabled=_thinking_enabled(body.get("thinking")),
    )


def _fingerprint(messages: list[Message]) -> str:
    """Identifies a request among its retries: the last message and its position."""
    last = json.dumps(messages[-1:], sort_keys=True) + f"#{len(messages)}"
    return hashlib.sha256(last.encode()).hexdigest()


def _thinking_enabled(setting: Any) -> bool:
    """Whether the request allows thinking blocks (`enabled` or `adaptive`)."""
    return isinstance(setting, dict) and setting.get("type") not in (None, "disabled")


def _last_tool_result(messages: list[Message]) -> tuple[str | None, str | None]:
    """The last message's tool result text and the name of the tool that gave it.

    Results of parallel tool calls are joined, one per line; the name is the
    last call's.
    """
    if not messages or messages[-1].get("role") != "user":
        return None, None
    results = [b for b in blocks_of(messages[-1]) if b.get("type") == "tool_result"]
    if not results:
        return None, None
    names = {
        use.get("id"): use.get("name") for message in messages[-2:-1] for use in _tool_uses(message)
    }
    text = "\n".join(tool_result_text(result) for result in results)
    return text, names.get(results[-1].get("tool_use_id"))


def _tool_references(messages: list[Message]) -> set[str]:
    """Tools a ToolSearch result has loaded (deferred tools become callable)."""
    loaded = set()
    for message in messages:
        for block in blocks_of(message):
            content = block.get("content") if block.get("type") == "tool_result" else None
            for item in content if isinstance(content, list) else []:
                if isinstance(item, dict) and item.get("type") == "tool_reference":
                    loaded.add(str(item.get("tool_name", "")))
    return loaded


def _is_tool_search_only(message: Message) -> bool:
    uses = _tool_uses(message)
    return bool(uses) and all(use.get("name") == TOOL_SEARCH for use in uses)


def _scripted_turns(after_user: list[Message]) -> int:
    """Assistant turns since the user spoke, not counting ToolSearch-only turns.

    This is the script step a rule is on: ToolSearch turns are the double's
    own detour to load a deferred tool, not a step of the scenario.
    """
    turns = 0
    previous_role = None
    for message in after_user:
        role = message.get("role")
        if role == "assistant" and previous_role != "assistant":
            turns += 0 if _is_tool_search_only(message) else 1
        previous_role = role
    return turns


def _searched_in_last_turn(messages: list[Message]) -> frozenset[str]:
    """Tools the previous assistant turn asked ToolSearch for (to avoid looping)."""
    for message in reversed(messages):
        if message.get("role") == "assistant":
            queries = [
                str(u.get("input", {}).get("query", ""))
                for u in _tool_uses(message)
                if u.get("name") == TOOL_SEARCH
            ]
            names = {n.strip() for q in queries for n in q.removeprefix("select:").split(",")}
            return frozenset(n for n in names if n)
    return frozenset()


def _system_text(system: Any) -> str:
    if isinstance(system, str):
        return system
    if isinstance(system, list):
        return "\n".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
    return ""


def _all_text(body: dict[str, Any]) -> str:
    """Every text block of the request, where the CLI puts its reminders."""
    parts = [_system_text(body.get("system"))]
    for message in body.get("messages", []):
        if isinstance(message, dict):
            parts.extend(
                str(b.get("text", "")) for b in blocks_of(message) if b.get("type") == "text"
            )
    return "\n".join(parts)
