"""The gateway's Starlette application: routes from one table, problems, the edge's
checks, the UI.

Every request first passes the same-origin checks (gateway.same_origin):
addressed to podium, from its own page, JSON for anything that changes
state. Bound beyond 127.0.0.1 it also requires the token (gateway.token_auth).
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from gateway.idempotency import idempotent
from gateway.openapi import COMMANDS, ENDPOINTS, openapi
from gateway.problems import HANDLERS, problem_response
from gateway.routes import Routes, json
from gateway.same_origin import SameOriginOnly, ServedNames
from gateway.token_auth import TokenRequired

UI_DIR = Path(__file__).resolve().parent.parent / "ui"


def create_app(
    routes: Routes,
    names: ServedNames,
    token: str | None = None,
    ui_dir: Path = UI_DIR,
) -> Starlette:
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
    # The first is the outermost: a request not meant for podium is refused before
    # anything else looks at it, the token included.
    middleware = [Middleware(SameOriginOnly, names=names)]
    if token:
        secure = names.public is not None and names.public.scheme == "https"
        middleware.append(Middleware(TokenRequired, token=token, secure_cookie=secure))
    return Starlette(routes=table, middleware=middleware, exception_handlers=HANDLERS)
