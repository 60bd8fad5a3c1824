"""The gateway's Starlette application: routes from one table, problems, auth, the UI.

Bound to 127.0.0.1 by default. Bound anywhere else it requires a token
(``Authorization: Bearer …``, or ``?token=`` for EventSource and WebSocket,
which cannot send headers).
"""

from __future__ import annotations

import hmac
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.idempotency import idempotent
from gateway.openapi import COMMANDS, ENDPOINTS, openapi
from gateway.problems import HANDLERS, problem_response
from gateway.routes import Routes, json

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
OPEN_PATHS = ("/healthz",)


class TokenRequired:
    """Refuses requests without the token (when one is configured)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"] not in OPEN_PATHS:
            connection = HTTPConnection(scope)
            given = connection.query_params.get("token") or ""
            header = connection.headers.get("authorization", "")
            if header.lower().startswith("bearer "):
                given = header[7:]
            if not hmac.compare_digest(given.encode(), self.token):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                response = problem_response(401, "this podium requires its token")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(routes: Routes, token: str | None = None, ui_dir: Path = UI_DIR) -> Starlette:
    async def document(request: Request) -> Response:
        return json(openapi())

    async def index(request: Request) -> Response:
        page = ui_dir / "index.html"
        if not page.exists():
            return problem_response(404, "the web UI is not installed")
        return FileResponse(page)

    table: list[BaseRoute] = []
    for endpoint in ENDPOINTS:
        handler = document if endpoint.handler == "openapi" else getattr(routes, endpoint.handler)
        if endpoint.handler in COMMANDS:
            handler = idempotent(routes.queries.pool, handler)
        table.append(Route(endpoint.path, handler, methods=[endpoint.method]))
    table.append(WebSocketRoute("/ws", routes.websocket))
    table.append(Route("/", index))
    table.append(Route("/sessions/{session_id}", index))
    if ui_dir.is_dir():
        table.append(Mount("/", StaticFiles(directory=ui_dir), name="ui"))
    middleware = [Middleware(TokenRequired, token=token)] if token else []
    return Starlette(routes=table, middleware=middleware, exception_handlers=HANDLERS)
