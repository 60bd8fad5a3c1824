"""Request bodies, validated by msgspec: every input has a shape and limits.

Text PostgreSQL cannot hold never gets past here: a NUL (U+0000) in any text
field, or a lone surrogate, is a 422 naming the field. The body is read
against its limit (``MAX_BODY``, gateway/body_limit.py) as it arrives, so an
oversized one is refused without being held in memory.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

import msgspec
from starlette.requests import Request

from domain.approval import Scope
from domain.names import AGENT_NAME
from domain.permissions import Outcome
from gateway.problems import Problem

MAX_BODY = 256 * 1024
PATH_MAX = 4096  # Linux's limit on a path, in bytes, its terminating NUL included
NAME_MAX = 255  # Linux's limit on one component of a path, in bytes
STORABLE = "Text without NUL (U+0000), which PostgreSQL cannot store."

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=100_000, description=STORABLE)]
Title = Annotated[str, msgspec.Meta(max_length=200, description=STORABLE)]
Prompt = Annotated[str, msgspec.Meta(max_length=100_000, description=STORABLE)]
Label = Annotated[str, msgspec.Meta(max_length=100, description=STORABLE)]
Cwd = Annotated[
    str,
    msgspec.Meta(
        max_length=PATH_MAX - 1,
        description=f"A directory; at most {PATH_MAX - 1} bytes in UTF-8, {NAME_MAX} per "
        "component, no NUL (U+0000).",
    ),
]
Name = Annotated[str, msgspec.Meta(pattern=f"^{AGENT_NAME.pattern}$")]  # the domain's rule
Usd = Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]


class NewSession(msgspec.Struct, forbid_unknown_fields=True):
    title: Title = ""
    cwd: Cwd | None = None
    budget_usd: Usd | None = None

    def __post_init__(self) -> None:
        # The operating system refuses longer paths with an error, not an answer.
        if self.cwd is None:
            return
        if len(self.cwd.encode()) >= PATH_MAX:
            raise ValueError(f"cwd is longer than {PATH_MAX - 1} bytes")
        if any(len(part.encode()) > NAME_MAX for part in self.cwd.split("/")):
            raise ValueError(f"cwd has a component longer than {NAME_MAX} bytes")


class NewMessage(msgspec.Struct, forbid_unknown_fields=True):
    text: Text


class NewAgent(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    system_prompt: Prompt = ""
    model: Label | None = None
    template: Label | None = None
    budget_usd: Usd | None = None
    permissions: RuleLayer | None = None  # the agent's own layer (a template's comes with it)


class NewCommand(msgspec.Struct, forbid_unknown_fields=True):
    command: Text


class Decision(msgspec.Struct, forbid_unknown_fields=True):
    """A person's decision on an approval request; ``message`` is what a denied
    agent is told, ``scope`` how far a grant reaches."""

    decision: Literal["allow", "deny"]
    scope: Scope = Scope.ONCE
    message: Prompt = ""


class NewBudget(msgspec.Struct, forbid_unknown_fields=True):
    """A budget set, raised or lowered; null removes it (no limit)."""

    budget_usd: Usd | None


RuleText = Annotated[
    str,
    msgspec.Meta(
        max_length=1000,
        description="A rule in Claude Code's syntax: Read, Edit(src/**), Bash(npm test:*), "
        "WebFetch(domain:docs.python.org), mcp__server__tool.",
    ),
]
RuleList = Annotated[list[RuleText], msgspec.Meta(max_length=500)]


class RuleLayer(msgspec.Struct, forbid_unknown_fields=True):
    """A whole layer of permission rules: a session's (in place of what it had),
    or the one an agent is created with."""

    allow: RuleList = []
    ask: RuleList = []
    deny: RuleList = []

    def rules(self) -> dict[Outcome, list[str]]:
        """The rules by outcome, as the domain takes them (and checks them: a
        malformed rule raises MalformedRule, a 422)."""
        return {Outcome.ALLOW: self.allow, Outcome.ASK: self.ask, Outcome.DENY: self.deny}


B = TypeVar("B", bound=msgspec.Struct)
_SURROGATE = re.compile("[\ud800-\udfff]")


async def read_body(request: Request, shape: type[B]) -> B:
    """The request's JSON body as ``shape``, or a 4xx problem saying what is wrong.

    That it says it is JSON was checked at the edge (gateway/same_origin.py), and
    its size is checked as it is read (gateway/body_limit.py)."""
    raw = await request.body()
    try:
        body = msgspec.json.decode(raw or b"{}", type=shape)
    except msgspec.ValidationError as error:
        raise Problem(422, f"invalid {shape.__name__} body: {error}") from None
    except msgspec.DecodeError as error:
        raise _undecodable(raw, error) from None
    if found := _unstorable(msgspec.to_builtins(body)):
        raise Problem(422, f"{found[0]} contains {found[1]}, which podium cannot store")
    return body


def _undecodable(raw: bytes, error: msgspec.DecodeError) -> Problem:
    """msgspec refuses a lone surrogate escape (valid JSON, but not Unicode text) as it
    refuses malformed JSON; the standard library's decoder, which reads such escapes,
    tells the two apart on this error path only."""
    try:
        loose = json.loads(raw.decode())  # strict UTF-8: bytes json.loads would let pass
    except ValueError:  # invalid UTF-8, or malformed JSON
        return Problem(400, f"the body is not valid JSON: {error}")
    if found := _unstorable(loose):
        return Problem(422, f"{found[0]} contains {found[1]}, which is not Unicode text")
    if found := _unstorable(loose, _not_finite):
        return Problem(422, f"{found[0]} is {found[1]}: give a finite number")
    return Problem(400, f"the body is not valid JSON: {error}")


def _unstorable_text(leaf: object) -> str | None:
    """What PostgreSQL cannot hold in this text, if anything."""
    if not isinstance(leaf, str):
        return None
    if "\x00" in leaf:
        return "a NUL character (U+0000)"
    return "a lone surrogate" if _SURROGATE.search(leaf) else None


def _not_finite(leaf: object) -> str | None:
    """NaN or Infinity, which only the standard library's decoder reads."""
    if not isinstance(leaf, float) or math.isfinite(leaf):
        return None
    return "NaN" if math.isnan(leaf) else "Infinity" if leaf > 0 else "-Infinity"


def _unstorable(
    value: object, judge: Callable[[object], str | None] = _unstorable_text, where: str = "the body"
) -> tuple[str, str] | None:
    """(where, what) for the first value in a decoded body (field names too) that
    ``judge`` finds wrong: by default, text PostgreSQL cannot hold."""
    if (wrong := judge(value)) is not None:
        return where, wrong
    if isinstance(value, dict):
        for key, item in value.items():
            inside = str(key) if where == "the body" else f"{where}.{key}"
            if found := _unstorable(key, judge, "a field name") or _unstorable(item, judge, inside):
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if found := _unstorable(item, judge, f"{where}[{index}]"):
                return found
    return None
