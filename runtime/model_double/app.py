"""The HTTP side: a Starlette app speaking the Messages API from a scenario.

Routes: `POST /v1/messages` (streaming or not; the summarizer's requests are
answered by summaries.py), `POST /v1/messages/count_tokens`,
and every other path answered with an empty JSON object, so nothing the CLI
calls on the side (with non-essential traffic disabled it calls nothing else)
ever fails. Every request is recorded, with what the double answered.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from runtime.model_double.conversation import read_conversation
from runtime.model_double.errors import AGENTS, SUMMARIES, ApiError, FaultQueue, new_request_id
from runtime.model_double.respond import Reply, Responder
from runtime.model_double.stream import full_message, new_message_id, stream_events
from runtime.model_double.summaries import asks_for_summaries, summaries_reply
from runtime.model_double.usage import PromptCache, Usage, output_tokens, request_tokens

logger = logging.getLogger(__name__)


@dataclass
class ReceivedRequest:
    """One request the double received, and what it answered (for tests)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 200
    reply: list[dict[str, Any]] = field(default_factory=list)
    rule: str | None = None
    step: int = 0
    usage: Usage | None = None
    requester: str = AGENTS  # whose request a /v1/messages one is: the CLI's or the summarizer's
    received_at: float = field(default_factory=time.monotonic)
    finished_at: float | None = None
    complete: bool = False

    @property
    def text(self) -> str:
        """The text blocks of the reply, joined."""
        return "".join(b.get("text", "") for b in self.reply if b.get("type") == "text")

    @property
    def tool_names(self) -> list[str]:
        """The tools the reply called."""
        return [b["name"] for b in self.reply if b.get("type") == "tool_use"]


@dataclass
class DoubleState:
    """Everything the routes share: the scenario, faults, cache and the record."""

    responder: Responder
    faults: FaultQueue = field(default_factory=FaultQueue)
    cache: PromptCache = field(default_factory=PromptCache)
    requests: deque[ReceivedRequest] = field(default_factory=deque)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if request.headers.get("content-encoding") == "gzip":
        raw = gzip.decompress(raw)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _error_response(error: ApiError) -> JSONResponse:
    request_id = new_request_id()
    return JSONResponse(
        error.body(request_id), status_code=error.status, headers=error.headers(request_id)
    )


async def _recorded(
    events: AsyncIterator[bytes], received: ReceivedRequest
) -> AsyncIterator[bytes]:
    """The events, noting when the stream ended and whether it was cut short."""
    try:
        async for event in events:
            yield event
        received.complete = True
    finally:
        received.finished_at = time.monotonic()


def build_app(state: DoubleState) -> Starlette:
    """The double's ASGI app, answering from `state`."""

    async def record(request: Request) -> ReceivedRequest:
        received = ReceivedRequest(
            request.method, request.url.path, dict(request.headers), await _json_body(request)
        )
        state.requests.append(received)
        return received

    def answered(received: ReceivedRequest, response: Response) -> Response:
        """Note a whole (non-streamed) answer as sent."""
        received.status = response.status_code
        received.complete, received.finished_at = True, time.monotonic()
        return response

    async def messages(request: Request) -> Response:
        received = await record(request)
        body = received.body
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return answered(received, _error_response(ApiError(400, "messages: field required")))
        summarizing = asks_for_summaries(body)
        received.requester = SUMMARIES if summarizing else AGENTS
        answer: Reply | ApiError | None = state.faults.take(received.requester)
        if answer is None and summarizing:
            answer = summaries_reply(body)
        elif answer is None:
            session = request.headers.get("x-claude-code-session-id", "")
            answer = state.responder.reply(read_conversation(body, session))
        if isinstance(answer, ApiError):
            logger.info("model double: %s %s", answer.status, answer.error_type)
            received.rule, received.step = answer.rule, answer.step
            return answered(received, _error_response(answer))
        return _answer(answer, body, received)

    def _answer(reply: Reply, body: dict[str, Any], received: ReceivedRequest) -> Response:
        fresh, created, read = state.cache.input_usage(body)
        usage = Usage(fresh, created, read, output_tokens(reply.content))
        received.reply, received.rule, received.step = reply.content, reply.rule, reply.step
        received.usage = usage
        model = str(body.get("model", "claude-sonnet-4-5"))
        message_id = new_message_id()
        request_id = new_request_id()
        headers = {"request-id": request_id}
        if body.get("stream"):
            events = _recorded(stream_events(reply, model, usage, message_id), received)
            return StreamingResponse(
                events,
                media_type="text/event-stream",
                headers={**headers, "cache-control": "no-cache"},
            )
        return answered(
            received, JSONResponse(full_message(reply, model, usage, message_id), headers=headers)
        )

    async def count_tokens(request: Request) -> Response:
        received = await record(request)
        body = received.body if isinstance(received.body, dict) else {}
        return answered(received, JSONResponse({"input_tokens": request_tokens(body)}))

    async def anything_else(request: Request) -> Response:
        received = await record(request)
        logger.info("model double: unhandled %s %s", received.method, received.path)
        return answered(received, JSONResponse({}))

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(
        routes=[
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
            Route("/{path:path}", anything_else, methods=methods),
        ]
    )
