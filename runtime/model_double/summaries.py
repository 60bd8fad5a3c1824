"""Answering the summarizer: its requests ask for one summary per event.

The summarizer (summarizer/request.py) forces a call of its one tool,
``record_summaries``, and sends the events as JSON in the user message:
``{"events": [{"id": 7, "agent": "alice", "kind": "...", "detail": "..."}]}``.
The double answers with that tool call, one summary per event, made from
the event's own words, so a demo reads like a summarized session and tests
can tell which event each summary is of.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from runtime.model_double.respond import Reply

SUMMARY_TOOL = "record_summaries"
WORDS = 12


def asks_for_summaries(body: dict[str, Any]) -> bool:
    choice = body.get("tool_choice")
    return isinstance(choice, dict) and choice.get("name") == SUMMARY_TOOL


def summaries_reply(body: dict[str, Any]) -> Reply:
    """The tool call answering a summary request (an event it cannot read is skipped)."""
    summaries = [
        {"id": event["id"], "summary": _summary_of(event)}
        for event in _events(body)
        if isinstance(event, dict) and isinstance(event.get("id"), int)
    ]
    block = {
        "type": "tool_use",
        "id": f"toolu_double_{uuid.uuid4().hex[:20]}",
        "name": SUMMARY_TOOL,
        "input": {"summaries": summaries},
    }
    return Reply([block], rule=SUMMARY_TOOL)


def _events(body: dict[str, Any]) -> list[Any]:
    for message in reversed(body.get("messages", [])):
        content = message.get("content") if isinstance(message, dict) else None
        texts = [content] if isinstance(content, str) else []
        if isinstance(content, list):
            texts = [b.get("text", "") for b in content if isinstance(b, dict)]
        for text in texts:
            try:
                events = json.loads(text).get("events")
            except (ValueError, AttributeError):
                continue
            if isinstance(events, list):
                return events
    return []


def _summary_of(event: dict[str, Any]) -> str:
    words = " ".join(str(event.get("detail", "")).split()).split(" ")
    said = " ".join(words[:WORDS]).strip()
    return f"{event.get('agent', 'an agent')} {event.get('kind', 'did something')}" + (
        f": {said}" if said else ""
    )
