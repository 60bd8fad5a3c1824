"""A reply on the wire: the API's SSE event sequence, or one JSON message.

Streaming follows the real API event for event: `message_start`, `ping`, for
each block `content_block_start` / `content_block_delta`... /
`content_block_stop` (text_delta; thinking_delta then signature_delta;
input_json_delta in several pieces), then `message_delta` with the stop
reason and usage, and `message_stop`. A step's `delay` sleeps before every
delta, which makes a reply slow enough to interrupt.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from runtime.model_double.respond import Reply
from runtime.model_double.usage import Usage

TEXT_CHUNK = 24  # characters per text/thinking delta when a step sets no `chunk`
TOOL_INPUT_PIECES = 3  # input_json_delta pieces per tool call when a step sets no `chunk`


def new_message_id() -> str:
    return f"msg_double_{uuid.uuid4().hex[:20]}"


def full_message(reply: Reply, model: str, usage: Usage, message_id: str) -> dict[str, Any]:
    """The non-streaming answer: one complete message object."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": reply.content,
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": usage.as_json(),
    }


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


async def stream_events(
    reply: Reply, model: str, usage: Usage, message_id: str
) -> AsyncIterator[bytes]:
    """The streaming answer, one SSE event at a time."""
    start_usage = Usage(
        usage.input_tokens,
        usage.cache_creation_input_tokens,
        usage.cache_read_input_tokens,
        output_tokens=1,
    )
    message = full_message(reply, model, start_usage, message_id)
    message.update(content=[], stop_reason=None)
    yield sse("message_start", {"type": "message_start", "message": message})
    yield sse("ping", {"type": "ping"})
    for index, block in enumerate(reply.content):
        yield sse(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": _empty(block)},
        )
        for delta in _deltas(block, reply.chunk):
            if reply.delay:
                await asyncio.sleep(reply.delay)
            yield sse(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        yield sse("content_block_stop", {"type": "content_block_stop", "index": index})
    yield sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
            "usage": usage.as_json(),
        },
    )
    yield sse("message_stop", {"type": "message_stop"})


def _empty(block: dict[str, Any]) -> dict[str, Any]:
    """A block as `content_block_start` announces it, before any delta."""
    if block["type"] == "text":
        return {"type": "text", "text": ""}
    if block["type"] == "thinking":
        return {"type": "thinking", "thinking": "", "signature": ""}
    return {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}


def _pieces(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _deltas(block: dict[str, Any], chunk: int) -> Iterator[dict[str, Any]]:
    if block["type"] == "text":
        for piece in _pieces(block["text"], chunk or TEXT_CHUNK):
            yield {"type": "text_delta", "text": piece}
    elif block["type"] == "thinking":
        for piece in _pieces(block["thinking"], chunk or TEXT_CHUNK):
            yield {"type": "thinking_delta", "thinking": piece}
        yield {"type": "signature_delta", "signature": block["signature"]}
    else:
        encoded = json.dumps(block["input"])
        size = chunk or max(1, -(-len(encoded) // TOOL_INPUT_PIECES))
        for piece in _pieces(encoded, size):
            yield {"type": "input_json_delta", "partial_json": piece}
