"""The gateway's endpoints: commands in, read models and the log out.

Commands are the application service's (domain.application.Podium), the
same the orchestrator's tools give (runtime/tools.py), so a person can act by
hand exactly as the orchestrator does, under the same rules; their effects
arrive, like everything, as events.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket

from domain.application import Podium
from domain.approval import ApprovalStatus
from domain.permissions import NO_RULES, Permissions
from gateway.bodies import Decision, NewAgent, NewCommand, NewMessage, NewSession, read_body
from gateway.live_events import LiveEvents
from gateway.params import (
    NOTIFICATION_ID_MAX,
    choice_param,
    given,
    int_param,
    shown,
    text_param,
    whole_number,
)
from gateway.problems import Problem
from gateway.reads import (
    APPROVALS,
    LEVELS,
    LOG_CATEGORIES,
    MAX_LIMIT,
    ReadModelQueries,
    contains,
    session_id_of,
)
from gateway.stream import sse_response, websocket_stream
from projections.caught_up import caught_up
from projections.event_view import LogView
from projections.faults import Faults, faults
from runtime.confinement import check_directory
from runtime.templates import agent_setup
from runtime.tools import interrupting
from transfer.export import export_session
from transfer.format import TransferRefused

SOURCE = "user"  # who gives the commands that come over HTTP
APPROVAL_STATES = ("pending", "decided")  # what GET /api/approvals?status= takes
NDJSON = "application/x-ndjson"  # an export: JSON Lines

_encoder = msgspec.json.Encoder(decimal_format="number")


def json(body: Any, status: int = 200) -> Response:
    return Response(_encoder.encode(body), status_code=status, media_type="application/json")


class Routes:
    """Every endpoint, bound to what it needs."""

    def __init__(
        self,
        app: Podium,
        log_view: LogView,
        pool: AsyncConnectionPool,
        tail: LiveEvents,
        default_cwd: Path,
    ) -> None:
        self.app = app
        self.log_view = log_view
        self.tail = tail
        self.default_cwd = default_cwd
        self.pool = pool
        self.queries = ReadModelQueries(pool)

    async def _session(self, request: Request) -> tuple[UUID, Path]:
        """The request's session (404 if there is none) and its directory."""
        session_id = session_id_of(request)
        session = await asyncio.to_thread(self.app.get_session, session_id)
        return session_id, Path(session.cwd)

    # --- health -------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        return json({"status": "ok"})

    # --- sessions -------------------------------------------------------------------

    async def list_sessions(self, request: Request) -> Response:
        return json({"sessions": await self.queries.sessions()})

    async def create_session(self, request: Request) -> Response:
        body = await read_body(request, NewSession)
        try:  # agents are confined to their session's directory: it lies in the workspace
            cwd = check_directory(Path(body.cwd or "."), self.default_cwd)
            is_directory = cwd.is_dir()
        except (ValueError, OSError) as error:  # outside, a NUL, a name too long
            raise Problem(422, f"cwd: {error}") from None
        if not is_directory:
            raise Problem(422, f"cwd {cwd} is not a directory")
        session = await asyncio.to_thread(
            self.app.start_session, body.title, str(cwd), body.budget_usd
        )
        await caught_up(self.pool)
        return json(await self.queries.session(session.id), status=201)

    async def get_session(self, request: Request) -> Response:
        return json(await self.queries.session(session_id_of(request)))

    async def send_message(self, request: Request) -> Response:
        session_id = session_id_of(request)
        body = await read_body(request, NewMessage)
        await asyncio.to_thread(self.app.send_user_message, session_id, body.text)
        return json({"accepted": True}, status=202)

    # --- agents ----------------------------------------------------------------------

    async def list_agents(self, request: Request) -> Response:
        return json({"agents": await self.queries.agents(session_id_of(request))})

    async def create_agent(self, request: Request) -> Response:
        session_id, cwd = await self._session(request)
        body = await read_body(request, NewAgent)
        setup = agent_setup(body.system_prompt, body.model, body.template, cwd)
        own = NO_RULES if body.permissions is None else Permissions.of(body.permissions.rules())
        agent = await asyncio.to_thread(
            self.app.create_agent,
            session_id,
            body.name,
            cwd=".",
            budget_usd=body.budget_usd,
            permissions=own,
            **setup.options(),
        )
        return json({"agent_id": agent.id, "name": agent.name, "model": agent.model}, 201)

    async def command_agent(self, request: Request) -> Response:
        session_id, _ = await self._session(request)
        body = await read_body(request, NewCommand)
        key = request.headers.get("idempotency-key")  # checked by gateway.idempotency
        name = request.path_params["name"]
        task = await asyncio.to_thread(
            self.app.command_agent, session_id, name, body.command, SOURCE, key
        )
        return json({"task": task}, status=202)

    async def interrupt_agent(self, request: Request) -> Response:
        session_id, _ = await self._session(request)
        name = request.path_params["name"]
        agent = await asyncio.to_thread(self.app.interrupt_agent, session_id, name, SOURCE)
        return json({"detail": interrupting(agent)}, status=202)

    async def delete_agent(self, request: Request) -> Response:
        session_id, _ = await self._session(request)
        name = request.path_params["name"]
        reason = f"deleted by the {SOURCE}"
        await asyncio.to_thread(self.app.delete_agent, session_id, name, reason)
        return json({"deleted": name}, status=202)

    # --- approvals -------------------------------------------------------------------

    async def list_approvals(self, request: Request) -> Response:
        """Requests for permission, oldest first: pending ones, decided ones, or all."""
        where: list[str] = ["true"]
        params: list[Any] = []
        wanted = choice_param(request.query_params, "status", APPROVAL_STATES)
        if wanted is not None:
            where.append("status = %s" if wanted == "pending" else "status <> %s")
            params.append(ApprovalStatus.PENDING.value)
        if (session := text_param(request.query_params, "session", 36)) is not None:
            try:
                params.append(UUID(session))
            except ValueError:
                raise Problem(422, f"session must be a session id, not {shown(session)}") from None
            where.append("session_id = %s")
        limit = int_param(request.query_params, "limit", MAX_LIMIT, 1, MAX_LIMIT)
        query = f"{APPROVALS} WHERE {' AND '.join(where)} ORDER BY notification_id LIMIT %s"
        return json({"approvals": await self.queries.rows(query, (*params, limit))})

    async def decide_approval(self, request: Request) -> Response:
        """A person's decision; the first one stands (409 after it)."""
        raw = request.path_params["approval_id"]
        try:
            approval_id = UUID(raw)
        except ValueError:
            raise Problem(404, f"no approval request with id {shown(raw)}") from None
        body = await read_body(request, Decision)
        approval = await asyncio.to_thread(
            self.app.decide_approval,
            approval_id,
            body.decision == "allow",
            body.scope,
            body.message,
            SOURCE,
        )
        return json(
            {
                "id": approval.id,
                "status": approval.status,
                "decision": body.decision,
                "scope": approval.scope,
                "message": approval.message,
            }
        )

    # --- read models ------------------------------------------------------------------

    async def costs(self, request: Request) -> Response:
        return json({"costs": await self.queries.costs(session_id_of(request))})

    def _paging(self, request: Request) -> tuple[int, int]:
        after = int_param(request.query_params, "after", 0, 0, NOTIFICATION_ID_MAX)
        return after, int_param(request.query_params, "limit", 200, 1, MAX_LIMIT)

    async def chat(self, request: Request) -> Response:
        session_id = session_id_of(request)
        await self.queries.session(session_id)
        after, limit = self._paging(request)
        return json(
            await self.queries.page("chat", ["session_id = %s"], [session_id], after, limit)
        )

    async def _agent_rows(self, request: Request) -> tuple[list[str], list[Any]]:
        """The conditions of a session's per-agent table, with the optional agent filter."""
        session_id = session_id_of(request)
        await self.queries.session(session_id)
        where: list[str] = ["session_id = %s"]
        params: list[Any] = [session_id]
        if agent := text_param(request.query_params, "agent", 64):
            where.append("lower(agent_name) = lower(%s)")
            params.append(agent)
        return where, params

    async def logs(self, request: Request) -> Response:
        where, params = await self._agent_rows(request)
        after, limit = self._paging(request)
        if category := choice_param(request.query_params, "category", LOG_CATEGORIES):
            where.append("category = %s")
            params.append(category)
        if kind := text_param(request.query_params, "type", 64):
            where.append("event_type = %s")
            params.append(kind)
        if text := text_param(request.query_params, "q"):
            where.append("summary ILIKE %s")
            params.append(contains(text))
        return json(await self.queries.page("agent_logs", where, params, after, limit))

    async def system_logs(self, request: Request) -> Response:
        """Oldest first after ``after``; or, given ``before``, newest first below it.
        ``head``, read before the page: the page holds every entry up to it, so a
        live stream from there (?after=head) misses none."""
        after, limit = self._paging(request)
        where: list[str] = ["true"]
        params: list[Any] = []
        if level := choice_param(request.query_params, "level", LEVELS):
            where.append("level = %s")
            params.append(level)
        head = await self.queries.position("system_logs")
        if (raw := given(request.query_params, "before")) is None:
            page = await self.queries.page("system_logs", where, params, after, limit)
        else:
            before = whole_number(raw, "before", 0, NOTIFICATION_ID_MAX)
            span = (after, before)
            page = await self.queries.newest_page("system_logs", where, params, span, limit)
        return json({**page, "head": head})

    async def file_changes(self, request: Request) -> Response:
        where, params = await self._agent_rows(request)
        after, limit = self._paging(request)
        return json(await self.queries.page("file_changes", where, params, after, limit))

    async def projection_faults(self, request: Request) -> Response:
        def read() -> Faults:
            with self.log_view.connection() as conn:
                return faults(conn)

        return json(await asyncio.to_thread(read))

    # --- the log ---------------------------------------------------------------------

    async def session_events(self, request: Request) -> Response:
        session_id = session_id_of(request)
        await self.queries.session(session_id)
        after, limit = self._paging(request)
        page, head = await asyncio.to_thread(self.log_view.session_page, session_id, after, limit)
        next_after = page[-1].id if len(page) == limit else None
        # Each event is already JSON: splice them in rather than decode and encode again.
        tail = _encoder.encode({"next_after": next_after, "head": head})
        body = b'{"events":[' + b",".join(e.body for e in page) + b"]," + tail[1:]
        return Response(body, media_type="application/json")

    async def export(self, request: Request) -> Response:
        """The session as `podium export` writes it (docs/export-format.md)."""
        session_id = session_id_of(request)
        await self.queries.session(session_id)

        def read() -> bytes:
            with self.log_view.connection() as conn:
                return b"".join(export_session(conn, session_id))

        try:
            body = await asyncio.to_thread(read)
        except TransferRefused as error:  # in the read model, not yet in the log's snapshot
            raise Problem(404, str(error)) from None
        return Response(body, media_type=NDJSON)

    async def stream(self, request: Request) -> StreamingResponse:
        return sse_response(request, self.tail, self.log_view)

    async def websocket(self, websocket: WebSocket) -> None:
        await websocket_stream(websocket, self.tail, self.log_view)
