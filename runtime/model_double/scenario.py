"""The scenario model: rules that turn a request into a scripted reply.

A scenario is a TOML file (see README.md in this package). It is decoded into
the msgspec Structs below, then checked beyond what types can say (exactly one
kind per block, regexes that compile, error statuses the double can send).
Every problem is reported as a ScenarioError naming the file and the rule.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec

ERROR_STATUSES = (400, 401, 403, 404, 413, 429, 500, 529)


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with the file and rule named."""


class Block(msgspec.Struct, forbid_unknown_fields=True):
    """One content block of a reply: exactly one of text, thinking or tool."""

    text: str | None = None
    thinking: str | None = None
    tool: str | None = None
    input: dict[str, Any] = msgspec.field(default_factory=dict)


class Step(msgspec.Struct, forbid_unknown_fields=True):
    """One assistant message of a rule's script.

    The shorthand keys give at most one thinking, one text and one tool call,
    emitted in that order; `blocks` lists any number in any order, after them.
    """

    thinking: str | None = None
    text: str | None = None
    tool: str | None = None
    input: dict[str, Any] = msgspec.field(default_factory=dict)
    blocks: list[Block] = msgspec.field(default_factory=list)
    delay: float = 0.0
    chunk: int = 0
    error: int | None = None
    error_times: int = 1
    error_message: str | None = None
    retry_after: float | None = None

    def content(self) -> list[Block]:
        """The blocks this step replies with, shorthand first."""
        shorthand = []
        if self.thinking is not None:
            shorthand.append(Block(thinking=self.thinking))
        if self.text is not None:
            shorthand.append(Block(text=self.text))
        if self.tool is not None:
            shorthand.append(Block(tool=self.tool, input=self.input))
        return shorthand + self.blocks


class When(msgspec.Struct, forbid_unknown_fields=True):
    """Extra conditions on the request, all of which must hold."""

    offers_tool: str | list[str] = msgspec.field(default_factory=list)
    lacks_tool: str | list[str] = msgspec.field(default_factory=list)
    system_contains: str | None = None
    after_tool: str | None = None

    def offered(self) -> list[str]:
        return [self.offers_tool] if isinstance(self.offers_tool, str) else self.offers_tool

    def lacking(self) -> list[str]:
        return [self.lacks_tool] if isinstance(self.lacks_tool, str) else self.lacks_tool


class Rule(msgspec.Struct, forbid_unknown_fields=True):
    """A pattern with conditions, and the script of replies it starts."""

    name: str
    step: list[Step]
    match: str = ""
    on: Literal["user", "tool_result"] = "user"
    when: When = msgspec.field(default_factory=When)
    defaults: dict[str, str] = msgspec.field(default_factory=dict)


class ScenarioInfo(msgspec.Struct, forbid_unknown_fields=True):
    """The `[scenario]` table: a name, and the texts used when no rule applies."""

    name: str = "scenario"
    description: str = ""
    fallback: str = (
        'I did not understand "{message}". I am the podium model double; '
        "my scenario has no rule for that."
    )
    finished: str = "Done."


class Page(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A `[[page]]`: what the double's HTTPS site serves at `path` (for WebFetch)."""

    path: str
    body: str
    content_type: str = "text/html; charset=utf-8"


class ScenarioFile(msgspec.Struct, forbid_unknown_fields=True):
    """A whole scenario file: `[scenario]`, the `[[rule]]`s in priority order, the `[[page]]`s."""

    scenario: ScenarioInfo = msgspec.field(default_factory=ScenarioInfo)
    rule: list[Rule] = msgspec.field(default_factory=list)
    page: list[Page] = msgspec.field(default_factory=list)


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its pattern compiled, ready to match requests."""

    rule: Rule
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from."""

    info: ScenarioInfo
    rules: tuple[CompiledRule, ...]
    source: str
    pages: tuple[Page, ...] = ()


def load_scenario(path: Path | str) -> LoadedScenario:
    """Read and validate a scenario file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    return parse_scenario(data, source=str(path))


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> LoadedScenario:
    """Validate decoded TOML (or any dict of the same shape)."""
    try:
        scenario = msgspec.convert(data, ScenarioFile)
    except msgspec.ValidationError as exc:
        raise ScenarioError(f"{source}: {_where(data, str(exc))}{exc}") from exc
    compiled = []
    for index, rule in enumerate(scenario.rule):
        label = f"{source}: rule {index + 1} ({rule.name!r})"
        compiled.append(CompiledRule(rule, _compile(rule, label)))
        _check_steps(rule, label)
    _check_pages(scenario.page, source)
    return LoadedScenario(scenario.scenario, tuple(compiled), source, tuple(scenario.page))


def _where(data: dict[str, Any], message: str) -> str:
    """Name the rule a msgspec error path points into, e.g. `$.rule[2]...`."""
    found = re.search(r"\$\.rule\[(\d+)\]", message)
    rules = data.get("rule")
    if not found or not isinstance(rules, list):
        return ""
    index = int(found.group(1))
    raw = rules[index] if index < len(rules) else None
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"rule {index + 1} ({name!r}): " if name else f"rule {index + 1}: "


def _compile(rule: Rule, label: str) -> re.Pattern[str]:
    try:
        return re.compile(rule.match, re.IGNORECASE | re.DOTALL)
    except re.error as exc:
        raise ScenarioError(f"{label}: bad match pattern {rule.match!r}: {exc}") from exc


def _check_pages(pages: list[Page], source: str) -> None:
    seen: set[str] = set()
    for number, page in enumerate(pages, start=1):
        if not page.path.startswith("/"):
            raise ScenarioError(f"{source}: page {number}: path must start with /: {page.path!r}")
        if page.path in seen:
            raise ScenarioError(f"{source}: page {number}: a second page at {page.path!r}")
        seen.add(page.path)


def _check_steps(rule: Rule, label: str) -> None:
    if not rule.step:
        raise ScenarioError(f"{label}: needs at least one [[rule.step]]")
    if rule.on == "tool_result" and len(rule.step) != 1:
        raise ScenarioError(f"{label}: an on = 'tool_result' rule replies with exactly one step")
    for number, step in enumerate(rule.step, start=1):
        where = f"{label}, step {number}"
        for block in step.blocks:
            kinds = [k for k in (block.text, block.thinking, block.tool) if k is not None]
            if len(kinds) != 1:
                raise ScenarioError(f"{where}: a block has exactly one of text, thinking, tool")
        if step.input and step.tool is None:
            raise ScenarioError(f"{where}: `input` without `tool`")
        if step.error is not None and step.error not in ERROR_STATUSES:
            raise ScenarioError(f"{where}: error must be one of {ERROR_STATUSES}")
        if step.error_times < 0 or step.delay < 0 or step.chunk < 0:
            raise ScenarioError(f"{where}: error_times, delay and chunk cannot be negative")
        always_fails = step.error is not None and step.error_times == 0
        if not step.content() and not always_fails:
            raise ScenarioError(f"{where}: has no text, thinking, tool or blocks to reply with")
