"""Ending an SDK client's life: stop its reader task, then its CLI process."""

from __future__ import annotations

import asyncio
import contextlib

from claude_agent_sdk import ClaudeSDKClient


async def close_client(client: ClaudeSDKClient | None, reader: asyncio.Task[None] | None) -> None:
    """Close quietly: a client being closed may already have lost its process."""
    if reader is not None:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
    if client is not None:
        with contextlib.suppress(Exception):
            await client.disconnect()
