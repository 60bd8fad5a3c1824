"""Choosing the reply: which rule applies, which step it is on, what it says.

A rule is matched against the last real user message (the user's own words,
reminders stripped). Its steps are a script: step N answers the request in
which the assistant has already taken N turns since that message, ToolSearch
detours not counted. `on = "tool_result"` rules are tried first whenever the
request ends in a tool result and answer with their single step.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from runtime.model_double.conversation import TOOL_SEARCH, Conversation, resolve_tool
from runtime.model_double.errors import ApiError
from runtime.model_double.scenario import Block, CompiledRule, LoadedScenario, Step
from runtime.model_double.template import render, render_value


@dataclass
class Reply:
    """One assistant message to send: API content blocks and how to stream them."""

    content: list[dict[str, Any]]
    rule: str | None = None
    step: int = 0
    delay: float = 0.0
    chunk: int = 0
    stop_reason: str = field(init=False)

    def __post_init__(self) -> None:
        uses_tool = any(block["type"] == "tool_use" for block in self.content)
        self.stop_reason = "tool_use" if uses_tool else "end_turn"


@dataclass(frozen=True)
class _Choice:
    """A rule, the step it is on, and the variables its texts may use."""

    rule: CompiledRule
    step_index: int
    variables: dict[str, str]


class Responder:
    """Answers conversations from one scenario; remembers which errors it has given."""

    def __init__(self, scenario: LoadedScenario) -> None:
        self.scenario = scenario
        self.site_url = ""  # the double's HTTPS site, once it serves the scenario's pages
        self._errors_given: Counter[tuple[str, ...]] = Counter()

    def reply(self, convo: Conversation) -> Reply | ApiError:
        builtins = {
            "message": convo.user_text,
            "result": convo.tool_result or "",
            "cwd": convo.cwd,
            "model": convo.model,
            "site": self.site_url,
        }
        choice = self._choose(convo, builtins)
        if choice is None:
            text = self.scenario.info.fallback
            if convo.turns_since_user > 0:
                text = self.scenario.info.finished
            return Reply([_text(render(text, builtins))])
        steps = choice.rule.rule.step
        if choice.step_index >= len(steps):
            text = render(self.scenario.info.finished, choice.variables)
            return Reply([_text(text)], rule=choice.rule.rule.name, step=choice.step_index)
        step = steps[choice.step_index]
        error = self._error_due(step, choice, convo)
        if error is not None:
            return error
        reply = _render_step(step, convo, choice.variables)
        if not reply.content:  # a thinking-only step, and the request disabled thinking
            reply.content = [_text(render(self.scenario.info.finished, choice.variables))]
        reply.rule, reply.step = choice.rule.rule.name, choice.step_index
        return reply

    def _choose(self, convo: Conversation, builtins: dict[str, str]) -> _Choice | None:
        if convo.tool_result is not None:
            for compiled in self.scenario.rules:
                rule = compiled.rule
                if rule.on != "tool_result" or not _conditions_hold(compiled, convo):
                    continue
                found = compiled.pattern.search(convo.tool_result)
                if found:
                    return _Choice(compiled, 0, _variables(compiled, found.groupdict(), builtins))
        for compiled in self.scenario.rules:
            if compiled.rule.on != "user" or not _conditions_hold(compiled, convo):
                continue
            found = compiled.pattern.search(convo.user_text)
            if found:
                variables = _variables(compiled, found.groupdict(), builtins)
                return _Choice(compiled, convo.turns_since_user, variables)
        return None

    def _error_due(self, step: Step, choice: _Choice, convo: Conversation) -> ApiError | None:
        """The step's error, the first `error_times` times this very request is seen.

        Retries of a request are identical, so counting per request (session,
        last message) lets the CLI's retry succeed after `error_times` errors.
        """
        if step.error is None:
            return None
        key = (
            choice.rule.rule.name,
            str(choice.step_index),
            convo.session_id,
            convo.last_message_key,
        )
        if step.error_times and self._errors_given[key] >= step.error_times:
            return None
        self._errors_given[key] += 1
        message = render(step.error_message, choice.variables) if step.error_message else None
        return ApiError(
            step.error, message, step.retry_after, choice.rule.rule.name, choice.step_index
        )


def _conditions_hold(compiled: CompiledRule, convo: Conversation) -> bool:
    when = compiled.rule.when
    if any(convo.resolve(name) is None for name in when.offered()):
        return False
    if any(convo.resolve(name) is not None for name in when.lacking()):
        return False
    if when.system_contains and when.system_contains.lower() not in convo.system.lower():
        return False
    if when.after_tool:
        used = convo.tool_result_name
        return used is not None and resolve_tool(when.after_tool, (used,)) is not None
    return True


def _variables(
    compiled: CompiledRule, groups: dict[str, str | None], builtins: dict[str, str]
) -> dict[str, str]:
    variables = dict(builtins)
    for name in compiled.pattern.groupindex:
        value = groups.get(name)
        variables[name] = value.strip() if value else compiled.rule.defaults.get(name, "")
    for name, value in compiled.rule.defaults.items():
        variables.setdefault(name, value)
    return variables


def _render_step(step: Step, convo: Conversation, variables: dict[str, str]) -> Reply:
    """The step's blocks with variables filled in and tool names resolved.

    A wanted tool that is offered but deferred (listed by name only) is first
    loaded: the reply is then a single ToolSearch call, and the same step is
    replayed on the next request, when the tool can be called.
    """
    content: list[dict[str, Any]] = []
    to_load: list[str] = []
    for block in step.content():
        if block.thinking is not None and not convo.thinking_enabled:
            continue  # like the API: no thinking blocks unless the request enables thinking
        if block.tool is None:
            content.append(_content_block(block, variables))
            continue
        name = convo.resolve(render(block.tool, variables))
        if name is None:
            content.append(
                _text(
                    f"(I wanted to use the tool {block.tool!r}, "
                    "but this request does not offer it.)"
                )
            )
        elif convo.can_call(name):
            content.append(_tool_use(name, render_value(block.input, variables)))
        elif convo.can_call(TOOL_SEARCH) and name not in convo.searched_tools:
            if name not in to_load:
                to_load.append(name)
        else:
            content.append(_text(f"(The tool {name} could not be loaded.)"))
    if to_load:
        query = {"query": "select:" + ",".join(to_load), "max_results": max(5, len(to_load))}
        return Reply([_tool_use(TOOL_SEARCH, query)])
    return Reply(content, delay=step.delay, chunk=step.chunk)


def _content_block(block: Block, variables: dict[str, str]) -> dict[str, Any]:
    if block.thinking is not None:
        thinking = render(block.thinking, variables)
        digest = hashlib.sha256(thinking.encode()).digest()
        return {
            "type": "thinking",
            "thinking": thinking,
            "signature": base64.b64encode(b"model-double:" + digest).decode(),
        }
    return _text(render(block.text or "", variables))


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _tool_use(name: str, tool_input: Any) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": f"toolu_{uuid.uuid4().hex[:24]}",
        "name": name,
        "input": tool_input,
    }
