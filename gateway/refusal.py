"""Refusing a request from ASGI middleware, for HTTP and WebSocket alike."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from gateway.problems import problem_response


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    """Answer with a problem document; close a WebSocket upgrade before it opens.

    uvicorn answers a closed handshake with a bare 403. It could send the
    problem itself (the WebSocket denial-response extension), but its
    websockets implementation then logs an ERROR for every refusal
    (Kludex/uvicorn#3138), which whoever can reach podium could fill its log with.
    """
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await problem_response(status, detail)(scope, receive, send)
