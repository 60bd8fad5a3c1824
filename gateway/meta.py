"""GET /api/meta: the words the UI draws with, from where podium defines them.

The agents' and sessions' statuses (domain.statuses), the events'
categories and the system log's levels (domain.vocabulary), and the
approvals' category, statuses and scopes (domain.approval) with the decisions
a person can send (gateway.bodies.Decision). The UI loads them before it shows
anything (ui/meta.js) and keeps no copy of its own, so a status added to the
domain reaches the browser with nothing else to edit. Statuses and scopes go
by name (``{"WORKING": "working"}``): the UI's code names the ones it treats
apart, and a name the domain does not have is an error there.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, get_args, get_type_hints

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from domain.approval import ApprovalStatus, Scope
from domain.statuses import AgentStatus, SessionStatus
from domain.summarizer import EventSummarized
from domain.vocabulary import Category, Level
from eventlog.reading import stream_type
from gateway.bodies import Decision
from gateway.openapi import JsonSchema, object_schema

# What a decision's body may say, by name: the one definition is the body's own type.
DECISIONS: dict[str, str] = {d.upper(): d for d in get_args(get_type_hints(Decision)["decision"])}


SUMMARIES_STREAM = stream_type(EventSummarized)


def _by_name(values: type[StrEnum]) -> dict[str, str]:
    return {member.name: member.value for member in values}


META: dict[str, Any] = {
    "statuses": {"agent": _by_name(AgentStatus), "session": _by_name(SessionStatus)},
    "categories": [category.value for category in Category],
    "levels": [level.value for level in Level],
    "approvals": {
        "category": Category.APPROVAL.value,  # the events of requests and decisions
        "statuses": _by_name(ApprovalStatus),
        "scopes": _by_name(Scope),
        "decisions": DECISIONS,
    },
    "system_log": {"category": Category.SYSTEM.value},  # the category of its entries
    # The AI summaries: their category, and their stream's type (the stream hides them).
    "summaries": {"category": Category.SUMMARY.value, "stream_type": SUMMARIES_STREAM},
}
_BODY = msgspec.json.encode(META)  # the same for every request: encoded once


def _names_of(values: type[StrEnum]) -> JsonSchema:
    return {
        "type": "object",
        "properties": {member.name: {"const": member.value} for member in values},
        "required": [member.name for member in values],
        "additionalProperties": False,
    }


def _list_of(values: type[StrEnum]) -> JsonSchema:
    return {"type": "array", "items": {"type": "string", "enum": [m.value for m in values]}}


META_SCHEMA = object_schema(
    system_log=object_schema(category={"const": Category.SYSTEM.value}),
    summaries=object_schema(
        category={"const": Category.SUMMARY.value}, stream_type={"const": SUMMARIES_STREAM}
    ),
    statuses=object_schema(agent=_names_of(AgentStatus), session=_names_of(SessionStatus)),
    categories=_list_of(Category),
    levels=_list_of(Level),
    approvals=object_schema(
        category={"const": Category.APPROVAL.value},
        statuses=_names_of(ApprovalStatus),
        scopes=_names_of(Scope),
        decisions={
            "type": "object",
            "properties": {name: {"const": value} for name, value in DECISIONS.items()},
            "required": list(DECISIONS),
            "additionalProperties": False,
        },
    ),
)


async def meta(request: Request) -> Response:
    return Response(_BODY, media_type="application/json")
