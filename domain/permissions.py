"""Permission rules in Claude Code's own syntax, and how podium layers them.

A rule names a tool, optionally narrowed by a specifier in parentheses:
``Read``, ``Edit(src/**)``, ``Bash(npm test:*)``,
``WebFetch(domain:docs.python.org)``, ``mcp__server__tool``, ``mcp__server``.
Each rule has an outcome: allow, ask or deny. podium hands the rules to the
CLI as its own settings (``permissions: {allow, ask, deny}``) so the CLI
matches them; only "ask" reaches podium. ``matching_rule`` follows the same
semantics, to name the rule that asked.

The CLI's semantics (Claude Code's permissions documentation): rules are
checked deny first, then ask, then allow, and the first that matches decides,
whatever its specificity. ``Read`` rules apply to every tool that reads files
(Grep, Glob), ``Edit`` rules to every tool that edits them. Paths are
gitignore patterns: ``//abs`` from the root, ``~/x`` from the home folder,
``/x`` and ``x`` from the agent's directory (podium's settings are no file
of their own: they are read in the agent's directory).

Layers (podium's defaults, the session, the template, the agent) merge into
one set: for the same rule a more specific layer's outcome replaces a less
specific one's, except that a deny in any layer stands (deny beats allow).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import msgspec

from domain.errors import DomainError

# A built-in tool's name (Read, WebFetch, NotebookEdit); an MCP tool's is mcp__server__tool.
TOOL_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
MCP_NAME = re.compile(r"mcp__([A-Za-z0-9_-]+?)(?:__([A-Za-z0-9_*-]+))?")
RULE = re.compile(r"(?P<tool>[^()\s]+)(?:\((?P<specifier>.*)\))?", re.DOTALL)
READ_TOOLS = frozenset(("Read", "Grep", "Glob", "LS"))
EDIT_TOOLS = frozenset(("Edit", "Write", "MultiEdit", "NotebookEdit"))
PATH_TOOLS = {"Read": READ_TOOLS, "Edit": EDIT_TOOLS}
WEB_TOOLS = frozenset(("WebFetch", "WebSearch"))
# How a compound command is split into the commands a Bash rule is matched against.
SHELL_OPERATORS = re.compile(r"\s*(?:&&|\|\||[;|&\n])\s*")


class MalformedRule(DomainError):
    def __init__(self, text: str, why: str) -> None:
        super().__init__(
            f"malformed permission rule {text!r}: {why}; write a tool name, optionally "
            "with a specifier, e.g. Read, Edit(src/**), Bash(npm test:*), "
            "WebFetch(domain:docs.python.org), mcp__server__tool"
        )


class Outcome(StrEnum):
    """What a matching rule decides, in the order the CLI checks them."""

    DENY = "deny"
    ASK = "ask"
    ALLOW = "allow"


class Rule(msgspec.Struct, frozen=True):
    """A parsed rule: the tool, and what narrows it (None: every use of it)."""

    tool: str
    specifier: str | None = None

    @classmethod
    def parse(cls, text: str) -> Rule:
        if not text.strip():
            raise MalformedRule(text, "the rule is empty")
        found = RULE.fullmatch(text.strip())
        if found is None:
            raise MalformedRule(text, "unbalanced parentheses or spaces in the tool name")
        tool, specifier = found["tool"], found["specifier"]
        if tool.startswith("mcp__"):
            if MCP_NAME.fullmatch(tool) is None or specifier is not None:
                raise MalformedRule(text, "an MCP rule is mcp__server or mcp__server__tool")
            return cls(tool)
        if TOOL_NAME.fullmatch(tool) is None:
            raise MalformedRule(text, f"{tool!r} is not a tool name")
        if specifier is None:
            return cls(tool)
        if not specifier.strip():
            raise MalformedRule(text, "the parentheses are empty")
        if tool == "WebFetch" and not specifier.startswith("domain:"):
            raise MalformedRule(text, "WebFetch is narrowed by domain:host")
        if tool == "WebFetch" and not specifier.removeprefix("domain:"):
            raise MalformedRule(text, "domain: names no host")
        if tool == "Bash" and ":*" in specifier.removesuffix(":*"):
            raise MalformedRule(text, ":* only ends a command prefix")
        return cls(tool, specifier)

    @property
    def text(self) -> str:
        return self.tool if self.specifier is None else f"{self.tool}({self.specifier})"

    def matches(
        self, tool: str, tool_input: Mapping[str, Any], place: Place, *, every: bool = False
    ) -> bool:
        """Whether this rule covers the call, as the CLI would judge it.
        ``every``: a compound command must be covered in every part (so an allow
        cannot lend itself to what follows ``&&``); else in one part."""
        if self.tool.startswith("mcp__"):
            return tool == self.tool or _mcp_covers(self.tool, tool)
        if tool not in PATH_TOOLS.get(self.tool, {self.tool}):
            return False
        if self.specifier is None:
            return True
        if self.tool == "Bash":
            commands = [c for c in SHELL_OPERATORS.split(str(tool_input.get("command", ""))) if c]
            found = [_command_matches(self.specifier, c) for c in commands]
            return bool(found) and (all(found) if every else any(found))
        if self.tool == "WebFetch":
            host = urlsplit(str(tool_input.get("url", ""))).hostname or ""
            return _domain_matches(self.specifier.removeprefix("domain:"), host)
        if self.tool in PATH_TOOLS:
            path = tool_input.get("file_path") or tool_input.get("notebook_path")
            target = place.resolve(str(path or tool_input.get("path") or place.cwd))
            return _path_matches(place.anchor(self.specifier), target)
        return fnmatch.fnmatchcase(_subject(tool_input), self.specifier)


class Match(NamedTuple):
    """The rule that decides a call, and what it decides."""

    outcome: Outcome
    rule: Rule


class Place(msgspec.Struct, frozen=True):
    """Where relative paths in rules and tool inputs start: the agent's directory."""

    cwd: PurePosixPath
    home: PurePosixPath

    def resolve(self, path: str) -> PurePosixPath:
        given = PurePosixPath(path)
        if path.startswith("~/"):
            given = self.home / path[2:]
        return _normal(given if given.is_absolute() else self.cwd / given)

    def anchor(self, pattern: str) -> str:
        """The rule's gitignore pattern as an absolute one."""
        if pattern.startswith("//"):
            return pattern[1:]
        if pattern.startswith("~/"):
            return f"{self.home}/{pattern[2:]}"
        relative = pattern.removeprefix("./").removeprefix("/")
        # A pattern without a slash matches at any depth, as in .gitignore.
        anywhere = "/" not in relative and not relative.startswith("**")
        return f"{self.cwd}/{'**/' + relative if anywhere else relative}"


class Permissions(msgspec.Struct, frozen=True, kw_only=True):
    """One layer's rules, or the merged set, as the CLI's settings hold them."""

    allow: tuple[str, ...] = ()
    ask: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()

    @classmethod
    def of(cls, rules: Mapping[Outcome, Iterable[str]]) -> Permissions:
        """The rules checked (each parsed: a malformed one raises ``MalformedRule``)
        and written the way ``Rule.text`` does, without repeats."""
        lists = {
            o: tuple(dict.fromkeys(Rule.parse(r).text for r in rules.get(o, ()))) for o in Outcome
        }
        return cls(allow=lists[Outcome.ALLOW], ask=lists[Outcome.ASK], deny=lists[Outcome.DENY])

    def rules(self, outcome: Outcome) -> tuple[str, ...]:
        return {Outcome.ALLOW: self.allow, Outcome.ASK: self.ask, Outcome.DENY: self.deny}[outcome]

    def outcomes(self) -> dict[str, Outcome]:
        """Rule -> outcome; a rule listed twice takes the CLI's first (deny, ask, allow)."""
        found: dict[str, Outcome] = {}
        for outcome in Outcome:
            for rule in self.rules(outcome):
                found.setdefault(rule, outcome)
        return found

    def with_rule(self, outcome: Outcome, rule: str) -> Permissions:
        """This layer with ``rule`` decided as ``outcome`` (in no other list)."""
        return merge(self, Permissions.of({outcome: [rule]}), deny_stands=False)

    def settings(self) -> dict[str, list[str]]:
        """The ``permissions`` object of the CLI's settings."""
        return {o.value: list(self.rules(o)) for o in (Outcome.ALLOW, Outcome.ASK, Outcome.DENY)}


NO_RULES = Permissions()


def merge(*layers: Permissions, deny_stands: bool = True) -> Permissions:
    """Layers, least specific first, as one set: for the same rule the most
    specific layer's outcome, but a deny stands (``deny_stands``: layers of
    podium's; one layer changing its own rule passes False)."""
    decided: dict[str, Outcome] = {}
    for layer in layers:
        for rule, outcome in layer.outcomes().items():
            if not (deny_stands and decided.get(rule) is Outcome.DENY):
                decided.pop(rule, None)  # moved to the end: the newest decision last
                decided[rule] = outcome
    return Permissions(**{o.value: tuple(r for r, d in decided.items() if d is o) for o in Outcome})


def matching_rule(
    rules: Permissions, tool: str, tool_input: Mapping[str, Any], place: Place
) -> Match | None:
    """The rule that decides a tool call, in the CLI's order (deny, ask, allow;
    the first match wins), or None when no rule covers it."""
    for outcome in Outcome:
        for text in rules.rules(outcome):
            rule = Rule.parse(text)
            if rule.matches(tool, tool_input, place, every=outcome is Outcome.ALLOW):
                return Match(outcome, rule)
    return None


def rule_for(tool: str, tool_input: Mapping[str, Any]) -> str:
    """The narrowest rule that approves this call again, the way Claude Code
    words "don't ask again": a Bash command exactly, a WebFetch's domain, a
    file tool's path (``//`` anchors an absolute one); any other tool by its name."""
    command, url = tool_input.get("command"), tool_input.get("url")
    path = next((tool_input[k] for k in ("file_path", "notebook_path") if k in tool_input), None)
    if tool == "Bash" and isinstance(command, str) and command.strip():
        return Rule.parse(f"Bash({command})").text
    if tool == "WebFetch" and isinstance(url, str) and (host := urlsplit(url).hostname):
        return f"WebFetch(domain:{host})"
    if tool in EDIT_TOOLS | READ_TOOLS and isinstance(path, str) and path:
        family = "Read" if tool in READ_TOOLS else "Edit"
        return f"{family}({'/' + path if path.startswith('/') else path})"
    return Rule.parse(tool).text


def ruling(
    layers: Sequence[Permissions], tool: str, tool_input: Mapping[str, Any], place: Place
) -> Match | None:
    """What podium's layers (least specific first) decide of a call: a deny in
    any layer stands; otherwise the most specific layer with a rule covering
    the call decides (an agent's "always" allow outranks the defaults' ask);
    None when no rule covers it."""
    denied = matching_rule(merge(*layers), tool, tool_input, place)
    if denied is not None and denied.outcome is Outcome.DENY:
        return denied
    for layer in reversed(layers):
        if (found := matching_rule(layer, tool, tool_input, place)) is not None:
            return found
    return None


def path_rules(tool: str, absolute: PurePosixPath) -> list[str]:
    """Rules for ``absolute`` and everything under it, whether it is a file, a
    folder or not there yet (``//`` anchors at the root)."""
    return [f"{tool}(/{absolute})", f"{tool}(/{absolute}/**)"]


def defaults(*, sandboxed: bool, secrets: Iterable[PurePosixPath]) -> Permissions:
    """podium's own layer: reading inside the agent's directory and Bash in the
    sandbox allowed; the network tools (which reach the network from the CLI,
    outside the sandbox) and unsandboxed Bash asked about; the secret paths
    denied to every file tool and the sandbox's Bash. What no rule names
    (tools outside the directory, other MCP servers) the CLI asks about.
    Edits inside the directory are the agent's permission mode's to allow
    (``acceptEdits``): an agent made to ask before it edits still asks."""
    deny = [rule for path in secrets for tool in PATH_TOOLS for rule in path_rules(tool, path)]
    allow = ["Read(./**)", *(["Bash"] if sandboxed else [])]
    ask = [*sorted(WEB_TOOLS), *([] if sandboxed else ["Bash"])]
    return Permissions.of({Outcome.ALLOW: allow, Outcome.ASK: ask, Outcome.DENY: deny})


def _mcp_covers(rule: str, tool: str) -> bool:
    """``mcp__server`` and ``mcp__server__*`` cover every tool of the server."""
    found = MCP_NAME.fullmatch(rule)
    return found is not None and found[2] in (None, "*") and tool.startswith(f"mcp__{found[1]}__")


def _command_matches(specifier: str, command: str) -> bool:
    """``*`` a wildcard anywhere; a final `` *`` (or the older ``:*``) also
    matches the bare command, not a longer word (``ls *``: ``ls -la``, not
    ``lsof``); no ``*``: the exact command."""
    if specifier.endswith(":*"):
        specifier = specifier[:-2] + " *"
    if "*" not in specifier:
        return command == specifier
    arguments = specifier.endswith(" *")
    head = specifier[:-2] if arguments else specifier
    regex = ".*".join(map(re.escape, head.split("*"))) + ("(?: .*)?" if arguments else "")
    return re.fullmatch(regex, command, re.DOTALL) is not None


def _domain_matches(pattern: str, host: str) -> bool:
    """``*.example.com`` covers example.com's subdomains; otherwise the host itself."""
    pattern = pattern.lower()  # host names are case-insensitive; urlsplit lowers the host
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def _path_matches(pattern: str, path: PurePosixPath) -> bool:
    """A gitignore pattern: ``**`` any folders (none too), ``*`` within one name."""
    parts: list[str] = []
    for piece in pattern.split("/"):
        if piece == "**":
            parts.append("(?:.*)")
        else:
            parts.append(
                "".join(
                    "[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in piece
                )
            )
    regex = "/".join(parts).replace("/(?:.*)/", "(?:/.*)?/").replace("/(?:.*)", "(?:/.*)?")
    return re.fullmatch(regex, str(path)) is not None


def _normal(path: PurePosixPath) -> PurePosixPath:
    """``..`` and ``.`` taken out without the filesystem (domain/ reads no files)."""
    parts: list[str] = []
    for part in path.parts[1:]:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath("/", *parts)


def _subject(tool_input: Mapping[str, Any]) -> str:
    """What another tool's specifier is matched against (an agent's type, a skill)."""
    for key in ("subagent_type", "skill", "command", "query"):
        if key in tool_input:
            return str(tool_input[key])
    return ""
