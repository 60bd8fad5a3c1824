"""Ephemeral output: partial text as it streams, for live viewers only.

Token-level deltas are not events; they are never stored. The runtime hands
them to a live feed, which the gateway fans out to open streams. Without a
gateway, nobody listens, and the feed drops them.
"""

from __future__ import annotations

from typing import Any, Protocol


class DeltaSink(Protocol):
    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Hand one ephemeral update to whoever watches (must not block)."""


class DroppedDeltas:
    """The live feed of a runtime nobody watches."""

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        return None


def text_delta(event: dict[str, Any]) -> str | None:
    """The text of a raw Messages API stream event, if it is a text delta."""
    if event.get("type") != "content_block_delta":
        return None
    delta = event.get("delta") or {}
    if delta.get("type") == "text_delta":
        text = delta.get("text")
        return text if isinstance(text, str) else None
    return None
