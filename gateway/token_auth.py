"""Token mode: the one secret that lets a person in when podium is reachable beyond loopback.

It is presented one of three ways: ``Authorization: Bearer …`` (API
clients), the ``podium_token`` cookie (browsers), or ``?token=`` (the link
`podium up` prints, and WebSocket clients that cannot set headers). Any
GET with the right ``?token=`` (the page, first of all) is redirected (303)
to the same URL without it, setting the cookie: HttpOnly (out of scripts' reach) and SameSite=Strict
(never sent with another site's request). So the token leaves the address
bar, the history and any Referer, and the page's assets, its API calls, its
EventSource and its WebSocket all carry the cookie by themselves. The cookie
holds a value derived from the token, not the token itself. Every
comparison is over fixed-length digests, in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.refusal import refuse

COOKIE = "podium_token"
OPEN_PATHS = ("/healthz",)
UNAUTHORIZED = "this podium requires its token: open the link `podium up` printed"


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _matches(given: str | None, expected: bytes) -> bool:
    return given is not None and hmac.compare_digest(_digest(given), expected)


class TokenRequired:
    """Refuses requests without the token (401), except ``/healthz``."""

    def __init__(self, app: ASGIApp, token: str, secure_cookie: bool = False) -> None:
        self.app = app
        self.token = _digest(token)
        self.cookie_value = hmac.new(token.encode(), b"podium cookie", "sha256").hexdigest()
        self.cookie = _digest(self.cookie_value)
        self.secure_cookie = secure_cookie  # when the public URL is https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        in_url = connection.query_params.get("token")
        if in_url is not None and scope.get("method") in ("GET", "HEAD"):
            if _matches(in_url, self.token):
                await self._exchange(connection)(scope, receive, send)
            else:
                await refuse(scope, receive, send, 401, UNAUTHORIZED)
            return
        if _matches(in_url, self.token) or self._presented(connection):
            await self.app(scope, receive, send)
            return
        await refuse(scope, receive, send, 401, UNAUTHORIZED)

    def _presented(self, connection: HTTPConnection) -> bool:
        """The token in the Authorization header, or its cookie."""
        scheme, _, bearer = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and _matches(bearer, self.token):
            return True
        return _matches(connection.cookies.get(COOKIE), self.cookie)

    def _exchange(self, connection: HTTPConnection) -> Response:
        """The token in the URL for a cookie, and the same URL without it."""
        rest = [(k, v) for k, v in connection.query_params.multi_items() if k != "token"]
        # One leading slash: "//evil.example" would be another site's address.
        location = "/" + connection.url.path.lstrip("/\\")
        if rest:
            location += "?" + urlencode(rest)
        response = RedirectResponse(location, status_code=303)
        response.set_cookie(
            COOKIE,
            self.cookie_value,
            httponly=True,
            samesite="strict",
            path="/",
            secure=self.secure_cookie,
        )
        return response
