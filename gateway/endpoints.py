"""The route table: every HTTP endpoint, bound to what answers it.

Each route is an ``Endpoint`` (gateway/openapi.py): Starlette's route with
what the OpenAPI document says of it, so the table the app serves and the
document it publishes are one list. Commands carry their Idempotency-Key
claims with them.
"""

from __future__ import annotations

import msgspec
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import Response

from domain.approval import ApprovalStatus, Scope
from domain.names import AGENT_NAME
from domain.vocabulary import Category
from gateway.bodies import (
    Decision,
    NewAgent,
    NewBudget,
    NewCommand,
    NewMessage,
    NewSession,
    RuleLayer,
)
from gateway.governance_routes import GovernanceRoutes
from gateway.meta import META_SCHEMA, meta
from gateway.metrics import MetricsPage, counted_sse
from gateway.openapi import Endpoint, JsonSchema, Param, document, object_schema
from gateway.params import NOTIFICATION_ID_MAX
from gateway.reads import LEVELS, LOG_CATEGORIES, MAX_LIMIT
from gateway.routes import APPROVAL_STATES, NDJSON, Routes

NOTIFICATION_ID: JsonSchema = {"type": "integer", "minimum": 0, "maximum": NOTIFICATION_ID_MAX}
NEXT_AFTER: JsonSchema = {"type": ["integer", "null"], "minimum": 1}
TEXT: JsonSchema = {"type": "string", "maxLength": 200}
SESSION_ID = Param("path", {"type": "string", "format": "uuid"})
AGENT: JsonSchema = {"type": "string", "pattern": f"^{AGENT_NAME.pattern}$"}


def _list_of(member: str) -> JsonSchema:
    return object_schema(**{member: {"type": "array", "items": {"type": "object"}}})


S = {"session_id": SESSION_ID}
A = {**S, "name": Param("path", AGENT)}
PAGE = {
    "after": Param("query", NOTIFICATION_ID),
    "limit": Param("query", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
}
SP = {**S, **PAGE}
AGENT_FILTER = {"agent": Param("query", {"type": "string", "maxLength": 64})}
PAGE_ANSWER = object_schema(
    items={"type": "array", "items": {"type": "object"}}, next_after=NEXT_AFTER
)
# A system log page has the cursor of the way it pages: next_after or next_before.
SYSTEM_LOG_PAGE: JsonSchema = {
    "type": "object",
    "properties": {**PAGE_ANSWER["properties"], "next_before": NEXT_AFTER, "head": NOTIFICATION_ID},
    "required": ["items", "head"],
}
SPEND: dict[str, JsonSchema] = {
    "session_id": {"type": "string", "format": "uuid"},
    "budget_usd": {"type": ["number", "null"], "minimum": 0},
    "spent_usd": {"type": "number", "minimum": 0},
}
RULE_LIST: JsonSchema = {"type": "array", "items": {"type": "string"}}
RULES = object_schema(allow=RULE_LIST, ask=RULE_LIST, deny=RULE_LIST)
SESSION = {
    "type": "object",
    "properties": {"session_id": {"type": "string", "format": "uuid"}, "title": {"type": "string"}},
    "required": ["session_id", "title"],
}


def endpoints(routes: Routes, claims: AsyncConnectionPool) -> list[Endpoint]:
    """Every endpoint, answered by ``routes``; commands keep their Idempotency-Key
    claims on ``claims``."""

    async def openapi(request: Request) -> Response:
        return Response(described, media_type="application/json")

    governance = GovernanceRoutes(routes.app)

    table = [
        Endpoint(
            "GET",
            "/healthz",
            routes.healthz,
            "Liveness",
            answer=object_schema(status={"const": "ok"}),
            needs_database=False,
        ),
        Endpoint("GET", "/api/openapi.json", openapi, "This document", needs_database=False),
        Endpoint(
            "GET",
            "/api/meta",
            meta,
            "Statuses, event categories and log levels, as the UI shows them",
            answer=META_SCHEMA,
            needs_database=False,
        ),
        Endpoint(
            "GET",
            "/api/sessions",
            routes.list_sessions,
            "List sessions, newest first",
            answer=_list_of("sessions"),
        ),
        Endpoint(
            "POST",
            "/api/sessions",
            routes.create_session,
            "Start a session",
            NewSession,
            status=201,
            answer=SESSION,
            claims=claims,
        ),
        Endpoint(
            "GET",
            "/api/sessions/{session_id}",
            routes.get_session,
            "One session",
            None,
            S,
            200,
            SESSION,
        ),
        Endpoint(
            "POST",
            "/api/sessions/{session_id}/messages",
            routes.send_message,
            "Chat to the orchestrator",
            NewMessage,
            S,
            202,
            object_schema(accepted={"const": True}),
            claims=claims,
        ),
        Endpoint(
            "GET",
            "/api/sessions/{session_id}/agents",
            routes.list_agents,
            "The session's agents",
            None,
            S,
            answer=_list_of("agents"),
        ),
        Endpoint(
            "POST",
            "/api/sessions/{session_id}/agents",
            routes.create_agent,
            "Create an agent",
            NewAgent,
            S,
            201,
            object_schema(agent_id={"type": "string", "format": "uuid"}, name=AGENT, model=TEXT),
            claims=claims,
        ),
        Endpoint(
            "POST",
            "/api/sessions/{session_id}/agents/{name}/commands",
            routes.command_agent,
            "Give an agent a task",
            NewCommand,
            A,
            202,
            object_schema(task={"type": "string"}),
            claims=claims,
            replayed_by_key=True,  # AgentCommanded records the key
        ),
        Endpoint(
            "POST",
            "/api/sessions/{session_id}/agents/{name}/interrupt",
            routes.interrupt_agent,
            "Interrupt an agent",
            None,
            A,
            202,
            object_schema(detail={"type": "string"}),
            claims=claims,
        ),
        Endpoint(
            "DELETE",
            "/api/sessions/{session_id}/agents/{name}",
            routes.delete_agent,
            "Delete an agent",
            None,
            A,
            202,
            object_schema(deleted=AGENT),
            claims=claims,
        ),
        Endpoint(
            "POST",
            "/api/sessions/{session_id}/budget",
            governance.set_session_budget,
            "Set, raise, lower or (null) remove the session's budget; what it spent",
            NewBudget,
            S,
            answer=object_schema(**SPEND),
            claims=claims,
        ),
        Endpoint(
            "POST",
            "/api/sessions/{session_id}/agents/{name}/budget",
            governance.set_agent_budget,
            "Set, raise, lower or (null) remove an agent's budget (a raised one lets an agent "
            "its budget stopped take commands again); what it spent",
            NewBudget,
            A,
            answer=object_schema(**SPEND, agent=AGENT),
            claims=claims,
        ),
        Endpoint(
            "GET",
            "/api/sessions/{session_id}/permissions",
            governance.session_permissions,
            "The session's layer of permission rules, in Claude Code's syntax",
            None,
            S,
            answer=RULES,
        ),
        Endpoint(
            "POST",
            "/api/sessions/{session_id}/permissions",
            governance.set_session_permissions,
            "Replace the session's layer of permission rules (a malformed rule is refused, "
            "named); the layer as recorded",
            RuleLayer,
            S,
            answer=RULES,
            claims=claims,
        ),
        Endpoint(
            "GET",
            "/api/approvals",
            routes.list_approvals,
            "Requests for permission, oldest first; filters: status (pending or decided), session",
            None,
            {
                "status": Param("query", {"type": "string", "enum": list(APPROVAL_STATES)}),
                "session": Param("query", {"type": "string", "format": "uuid"}),
                "limit": PAGE["limit"],
            },
            answer=_list_of("approvals"),
        ),
        Endpoint(
            "POST",
            "/api/approvals/{approval_id}/decision",
            routes.decide_approval,
            "Allow or deny a request for permission (only a person decides; the first "
            "decision stands)",
            Decision,
            {"approval_id": Param("path", {"type": "string", "format": "uuid"})},
            200,
            object_schema(
                id={"type": "string", "format": "uuid"},
                status={"type": "string", "enum": [s.value for s in ApprovalStatus]},
                decision={"type": "string", "enum": ["allow", "deny"]},
                scope={"type": ["string", "null"], "enum": [*(s.value for s in Scope), None]},
                message={"type": "string"},
            ),
            claims=claims,
        ),
        Endpoint(
            "GET",
            "/api/sessions/{session_id}/costs",
            routes.costs,
            "Cost per actor, model and day",
            None,
            S,
            answer=_list_of("costs"),
        ),
        Endpoint(
            "GET",
            "/api/sessions/{session_id}/chat",
            routes.chat,
            "The three-way chat",
            None,
            SP,
            answer=PAGE_ANSWER,
        ),
        Endpoint(
            "GET",
            "/api/sessions/{session_id}/logs",
            routes.logs,
            "Agent logs; filters: agent, category, type, q (text, matched literally)",
            None,
            {
                **SP,
                **AGENT_FILTER,
                "category": Param("query", {"type": "string", "enum": list(LOG_CATEGORIES)}),
                "type": Param("query", {"type": "string", "maxLength": 64}),
                "q": Param("query", TEXT),
            },
            answer=PAGE_ANSWER,
        ),
        Endpoint(
            "GET",
            "/api/sessions/{session_id}/file-changes",
            routes.file_changes,
            "File changes with diffs",
            None,
            {**SP, **AGENT_FILTER},
            answer=PAGE_ANSWER,
        ),
        Endpoint(
            "GET",
            "/api/sessions/{session_id}/events",
            routes.session_events,
            "The session's events in log order, paged by notification id",
            None,
            SP,
            answer=object_schema(
                events={"type": "array", "items": {"type": "object"}},
                next_after=NEXT_AFTER,
                head=NOTIFICATION_ID,
            ),
        ),
        Endpoint(
            "GET",
            "/api/sessions/{session_id}/export",
            routes.export,
            "The session's events and Claude transcripts as JSON Lines, for `podium import` "
            "(docs/export-format.md)",
            None,
            S,
            media_type=NDJSON,
        ),
        Endpoint(
            "GET",
            "/api/system-logs",
            routes.system_logs,
            "podium's system log: oldest first after `after`, or newest first below `before` "
            "(next page: `next_before`); `head`: the page holds every entry up to it",
            None,
            {
                **PAGE,
                "before": Param(
                    "query",
                    {
                        **NOTIFICATION_ID,
                        "description": "newest first, below this notification id "
                        f"({NOTIFICATION_ID_MAX}: the newest entries); with `after`, above it too",
                    },
                ),
                "level": Param("query", {"type": "string", "enum": list(LEVELS)}),
            },
            answer=SYSTEM_LOG_PAGE,
        ),
        Endpoint(
            "GET",
            "/api/projection-faults",
            routes.projection_faults,
            "Events each read model skipped as unreadable or unfoldable: the count per read "
            "model and the latest, with why",
            answer=object_schema(
                counts={"type": "object", "additionalProperties": {"type": "integer"}},
                recent={"type": "array", "items": {"type": "object"}},
            ),
        ),
        Endpoint(
            "GET",
            "/metrics",
            MetricsPage(routes.pool).metrics,
            "podium in Prometheus' text format (a source it cannot read is missing, and "
            "podium_metrics_errors says which)",
            needs_database=False,  # what it cannot read, it leaves out
            media_type="text/plain",
        ),
        Endpoint(
            "GET",
            "/api/stream",
            counted_sse(routes.stream),
            "Server-Sent Events; Last-Event-ID (or after) resumes with no gap",
            None,
            {
                "session": Param("query", {"type": "string", "format": "uuid"}),
                "agent": Param("query", AGENT),
                "category": Param("query", {"type": "string", "enum": list(Category)}),
                "after": Param("query", NOTIFICATION_ID),
                "Last-Event-ID": Param("header", NOTIFICATION_ID),
            },
            media_type="text/event-stream",
        ),
    ]
    described = msgspec.json.encode(document(table))  # the table is fixed: encoded once
    return table
