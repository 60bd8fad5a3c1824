"""The request body's limit, enforced as the body is read.

An ASGI middleware wraps ``receive``: when the app first asks for the body,
a declared Content-Length over the limit is refused before a byte is read;
after that, the bytes received are counted, and the request is refused as
soon as they pass the limit, so an oversized body (chunked, or lying about
its length) is never held in memory. Requests whose body nobody reads are
not refused: the limit is on what podium reads.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.params import ascii_number
from gateway.problems import Problem


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        limit = self.limit
        received = -1  # -1: nothing asked for yet

        async def limited() -> Message:
            nonlocal received
            if received < 0:
                received = 0
                length = ascii_number(declared)
                if length is not None and length > limit:
                    raise Problem(413, f"the body is {declared} bytes; the limit is {limit}")
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise Problem(413, f"the body is larger than the limit of {limit} bytes")
            return message

        await self.app(scope, limited, send)
