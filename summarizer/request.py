"""What the summarizer asks the model, and how it reads the answer.

One request per batch: the events as JSON in the user message, and one tool,
``record_summaries``, that the model is made to call (``tool_choice``), so the
answer is structured data checked against a schema rather than prose to
parse. The model double answers the same protocol
(runtime/model_double/summaries.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from domain.agent_payloads import (
    AgentFailedV1,
    AgentTurnCompletedV2,
    FileChangedV2,
    TextV1,
    ToolUseCompletedV1,
)
from domain.events import Payload, Usage
from domain.summarizer import MAX_WORDS
from domain.text import clean_text

TOOL = "record_summaries"
DETAIL_CHARS = 1_500  # of an event's content, as the model sees it: enough to say what it was
MAX_TOKENS_PER_EVENT = 60  # ~15 words and the JSON around them
INSTRUCTIONS = (
    "You summarize what AI coding agents did, for a person watching a team of them work. "
    f"For each event you are given, write one plain sentence of at most {MAX_WORDS} words "
    "saying what the agent did or said, naming files, commands and results concretely. "
    "No preamble, no quotes, no markdown. Summarize every event, each under its own id, "
    f"by calling {TOOL} once."
)
SCHEMA = {
    "type": "object",
    "properties": {
        "summaries": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "summary": {"type": "string"}},
                "required": ["id", "summary"],
            },
        }
    },
    "required": ["summaries"],
}


class EventNote(msgspec.Struct, frozen=True):
    """One event as the model is shown it."""

    id: int  # the event's notification id
    agent: str
    kind: str
    detail: str


class Summary(msgspec.Struct, frozen=True):
    id: int
    summary: str


class Summaries(msgspec.Struct, frozen=True):
    summaries: list[Summary]


class UnusableAnswer(ValueError):
    """The model answered, but not with the summaries asked for."""


def note(notification_id: int, agent: str, payload: Payload, tool_input: Any = None) -> EventNote:
    """What the model is told of an event: its kind and its content, cut short."""
    kind, detail = _described(payload, tool_input)
    return EventNote(notification_id, agent, kind, clean_text(detail)[:DETAIL_CHARS])


def _described(payload: Payload, tool_input: Any) -> tuple[str, str]:
    match payload:
        case TextV1():
            return "said", payload.text
        case ToolUseCompletedV1():
            failed = " (failed)" if payload.is_error else ""
            shown = _json(tool_input) if tool_input is not None else "(input not at hand)"
            return (
                f"used {payload.tool}{failed}",
                f"input: {shown}\nresult: {_json(payload.output)}",
            )
        case FileChangedV2():
            path = payload.path
            if payload.previous_path:
                path = f"{payload.previous_path} -> {path}"
            return f"{payload.change} a file", f"{path}\n{payload.diff}"
        case AgentTurnCompletedV2():
            state = "with an error" if payload.is_error else "done"
            return "finished a turn", f"task: {payload.task}; {payload.num_turns} steps; {state}"
        case AgentFailedV1():
            return "failed", payload.error
    raise TypeError(f"{type(payload).__name__} is not summarized")


def _json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode(errors="replace")


def request_body(model: str, notes: Sequence[EventNote]) -> dict[str, Any]:
    """The Messages API request summarizing ``notes``."""
    events = msgspec.json.encode({"events": notes}).decode()
    return {
        "model": model,
        "max_tokens": 256 + MAX_TOKENS_PER_EVENT * len(notes),
        "system": INSTRUCTIONS,
        "tools": [
            {
                "name": TOOL,
                "description": "Record one short summary for each event, by its id.",
                "input_schema": SCHEMA,
            }
        ],
        "tool_choice": {"type": "tool", "name": TOOL},
        "messages": [{"role": "user", "content": events}],
    }


class _Block(msgspec.Struct):
    type: str
    name: str = ""
    input: msgspec.Raw = msgspec.Raw(b"null")


class _Message(msgspec.Struct):
    content: list[_Block]
    usage: dict[str, Any] = msgspec.field(default_factory=dict)


def read_answer(raw: bytes) -> tuple[dict[int, str], Usage]:
    """The summaries by event id, and the call's usage; UnusableAnswer if the
    answer is not a call of the tool with summaries in the schema's shape."""
    try:
        message = msgspec.json.decode(raw, type=_Message)
    except msgspec.ValidationError as error:
        raise UnusableAnswer(f"not a Messages API answer: {error}") from None
    for block in message.content:
        if block.type == "tool_use" and block.name == TOOL:
            try:
                found = msgspec.json.decode(block.input, type=Summaries)
            except msgspec.ValidationError as error:
                raise UnusableAnswer(f"{TOOL} was called with {error}") from None
            return {s.id: s.summary for s in found.summaries}, Usage.from_api(message.usage)
    raise UnusableAnswer(f"the model did not call {TOOL}")
