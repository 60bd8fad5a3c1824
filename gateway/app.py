"""The gateway's Starlette application: the route table, problems, the edge's
checks, the UI.

Every request first passes the same-origin checks (gateway.same_origin):
addressed to podium, from its own page, JSON for anything that changes
state. Bound beyond 127.0.0.1 it also requires the token (gateway.token_auth).
"""

from __future__ import annotations

from pathlib import Path

from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from gateway.bodies import MAX_BODY
from gateway.body_limit import BodyLimit
from gateway.endpoints import endpoints
from gateway.metrics import counted_websocket
from gateway.problems import HANDLERS, problem_response
from gateway.routes import Routes
from gateway.same_origin import SameOriginOnly, ServedNames
from gateway.token_auth import TokenRequired

UI_DIR = Path(__file__).resolve().parent.parent / "ui"


def create_app(
    routes: Routes,
    claims: AsyncConnectionPool,
    names: ServedNames,
    token: str | None = None,
    ui_dir: Path = UI_DIR,
) -> Starlette:
    """The app answering with ``routes``; commands keep their Idempotency-Key claims
    on ``claims``."""

    async def index(request: Request) -> Response:
        page = ui_dir / "index.html"
        if not page.exists():
            return problem_response(404, "the web UI is not installed")
        return FileResponse(page)

    table: list[BaseRoute] = [
        *endpoints(routes, claims),
        WebSocketRoute("/ws", counted_websocket(routes.websocket)),
        Route("/", index),
        Route("/sessions/{session_id}", index),
    ]
    if ui_dir.is_dir():
        table.append(Mount("/", StaticFiles(directory=ui_dir), name="ui"))
    # The first is the outermost: a request not meant for podium is refused before
    # anything else looks at it, the token included.
    middleware = [Middleware(SameOriginOnly, names=names)]
    if token:
        secure = names.public is not None and names.public.scheme == "https"
        middleware.append(Middleware(TokenRequired, token=token, secure_cookie=secure))
    middleware.append(Middleware(BodyLimit, limit=MAX_BODY))  # read by the endpoints
    return Starlette(routes=table, middleware=middleware, exception_handlers=HANDLERS)
