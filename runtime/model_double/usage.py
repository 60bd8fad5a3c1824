"""Token counts that look like the real API's, so the CLI reports real costs.

Tokens are estimated as characters / 4. Prompt caching is imitated: the
request is read as blocks in the API's order (tools, system, messages); the
longest prefix the double has cached for the model is a cache read, the rest
up to the last `cache_control` breakpoint is a cache write, and what follows
it is plain input. So a conversation's second turn reads the first's prefix
from the cache, as it does against the real API. Writes are split by time to
live as the API splits them (`usage.cache_creation`): what lies up to the last
breakpoint marked `"ttl": "1h"` is a 1-hour write, the rest a 5-minute one.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

CHARS_PER_TOKEN = 4


def tokens(chars: int) -> int:
    return max(1, chars // CHARS_PER_TOKEN)


class CacheWrites(int):
    """Cache-write tokens that know how many of them are 1-hour writes (the
    rest are 5-minute ones): an int wherever a count is wanted."""

    one_hour: int

    def __new__(cls, tokens: int, one_hour: int = 0) -> CacheWrites:
        writes = super().__new__(cls, tokens)
        writes.one_hour = min(one_hour, tokens)
        return writes


def one_hour_part(writes: int) -> int:
    return writes.one_hour if isinstance(writes, CacheWrites) else 0


@dataclass(frozen=True)
class Usage:
    """The usage object of a Messages API reply."""

    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    output_tokens: int

    def as_json(self) -> dict[str, Any]:
        one_hour = one_hour_part(self.cache_creation_input_tokens)
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.cache_creation_input_tokens - one_hour,
                "ephemeral_1h_input_tokens": one_hour,
            },
            "output_tokens": self.output_tokens,
            "service_tier": "standard",
        }


def _segments(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The request as (serialised piece, the time to live of the cache
    breakpoint it ends at, if it is one), in API order."""
    pieces: list[Any] = list(body.get("tools") or [])
    system = body.get("system")
    pieces.extend(system if isinstance(system, list) else [system] if system else [])
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        pieces.extend(content if isinstance(content, list) else [message])
    return [(_without_cache_control(piece), _breakpoint_ttl(piece)) for piece in pieces]


def _breakpoint_ttl(piece: Any) -> str | None:
    """ "5m" or "1h" for a piece that ends at a cache breakpoint (the API's default is 5m)."""
    if not isinstance(piece, dict) or "cache_control" not in piece:
        return None
    control = piece["cache_control"]
    return "1h" if isinstance(control, dict) and control.get("ttl") == "1h" else "5m"


def _without_cache_control(piece: Any) -> str:
    """A piece serialised as the cache sees it: breakpoints move, content does not."""
    if isinstance(piece, dict):
        piece = {key: value for key, value in piece.items() if key != "cache_control"}
    return json.dumps(piece, sort_keys=True)


def request_tokens(body: dict[str, Any]) -> int:
    """All input tokens of a request, as `count_tokens` reports them."""
    return tokens(sum(len(text) for text, _ in _segments(body)))


def output_tokens(content: list[dict[str, Any]]) -> int:
    """Output tokens for reply content: its text, thinking and tool calls."""
    chars = 0
    for block in content:
        if block["type"] == "text":
            chars += len(block["text"])
        elif block["type"] == "thinking":
            chars += len(block["thinking"])
        elif block["type"] == "tool_use":
            chars += len(block["name"]) + len(json.dumps(block["input"]))
    return tokens(chars)


class PromptCache:
    """Prefixes seen at cache breakpoints, per model, for this double's lifetime."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def input_usage(self, body: dict[str, Any]) -> tuple[int, int, int]:
        """(input, cache creation, cache read) tokens for a request; records its
        prefixes. The cache creation is ``CacheWrites``: it knows its 1-hour part.

        Like the API, a read may hit at any block boundary before the last
        breakpoint (the conversation so far, written by the previous turn),
        while only the breakpoints themselves are written.
        """
        digest = hashlib.sha256(str(body.get("model", "")).encode())
        chars = 0
        boundaries: list[tuple[int, str, str | None]] = []
        for text, ttl in _segments(body):
            digest.update(text.encode())
            chars += len(text)
            boundaries.append((chars, digest.hexdigest(), ttl))
        total = tokens(chars)
        last_breakpoint = max((at for at, _, ttl in boundaries if ttl), default=0)
        if not last_breakpoint:
            return total, 0, 0
        within = [(at, key, ttl) for at, key, ttl in boundaries if at <= last_breakpoint]
        with self._lock:
            read_chars = max((at for at, key, _ in within if key in self._seen), default=0)
            self._seen.update(key for _, key, ttl in within if ttl)
        last_hour = max((at for at, _, ttl in within if ttl == "1h"), default=0)
        read = read_chars // CHARS_PER_TOKEN
        created = (last_breakpoint - read_chars) // CHARS_PER_TOKEN
        one_hour = max(0, last_hour - read_chars) // CHARS_PER_TOKEN
        return max(1, total - read - created), CacheWrites(created, one_hour), read
