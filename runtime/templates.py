"""Agent templates and orchestrator workflows, as Claude Code keeps them.

Templates are `.claude/agents/*.md` files: front matter (name, description,
model, tools; and podium's own ``permissions-allow``, ``permissions-ask``,
``permissions-deny``: the template's layer of permission rules) and a body
that is the agent's system prompt. Workflows are
`.claude/commands/*.md` files whose body is a prompt with `$ARGUMENTS`; a
message to the orchestrator starting with `/name` runs the workflow. Both
are looked up in the session's directory first, then in the set shipped
with podium (runtime/claude/).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from domain.agent_rules import AgentSetup, AgentTemplate
from domain.errors import DomainError
from domain.permissions import Outcome, Permissions

SHIPPED = resources.files("runtime") / "claude"
RULE_KEY = "permissions-"  # front matter keys of a template's rules: permissions-allow, ...


class UnknownTemplate(DomainError):
    """An agent was asked for from a template no file defines (a 422, like any
    other command that breaks a rule)."""

    def __init__(self, name: str, available: list[str]) -> None:
        super().__init__(f"no agent template called {name!r}: choose from {', '.join(available)}")


@dataclass(frozen=True)
class Workflow:
    name: str
    description: str
    body: str

    def expand(self, arguments: str) -> str:
        return self.body.replace("$ARGUMENTS", arguments.strip())


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """`---`-fenced `key: value` lines, and the body after them."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text.strip()
    fields: dict[str, str] = {}
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return fields, "\n".join(lines[index + 1 :]).strip()
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    return {}, text.strip()


def _markdown_files(folder: str, cwd: Path) -> dict[str, Traversable | Path]:
    """Name -> file; the session's own files override the shipped ones."""
    found: dict[str, Traversable | Path] = {}
    shipped = SHIPPED / folder
    for entry in shipped.iterdir():
        if entry.name.endswith(".md"):
            found[entry.name[:-3]] = entry
    local = cwd / ".claude" / folder
    if local.is_dir():
        for path in sorted(local.glob("*.md")):
            found[path.stem] = path
    return found


def split_rules(text: str) -> list[str]:
    """Comma-separated rules; a comma inside a rule's parentheses is its own."""
    rules, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth <= 0:
            rules.append(current)
            current = ""
        else:
            current += char
    rules.append(current)
    return [rule.strip() for rule in rules if rule.strip()]


def template_permissions(fields: dict[str, str]) -> Permissions:
    """The rules of a template's front matter: ``permissions-allow``,
    ``permissions-ask`` and ``permissions-deny``, each a comma-separated list
    (``permissions-allow: Bash(npm test:*), Read``). Claude Code's agent files
    have no such keys; a malformed rule is refused (MalformedRule)."""
    return Permissions.of({o: split_rules(fields.get(f"{RULE_KEY}{o.value}", "")) for o in Outcome})


def agent_templates(cwd: Path) -> dict[str, AgentTemplate]:
    templates = {}
    for stem, file in _markdown_files("agents", cwd).items():
        fields, body = split_front_matter(file.read_text(encoding="utf-8"))
        name = fields.get("name") or stem
        tools = tuple(t.strip() for t in fields.get("tools", "").split(",") if t.strip())
        templates[name] = AgentTemplate(
            name,
            fields.get("description", ""),
            fields.get("model") or None,
            tools,
            body,
            template_permissions(fields),
        )
    return templates


def agent_template(name: str, cwd: Path) -> AgentTemplate:
    templates = agent_templates(cwd)
    if name not in templates:
        raise UnknownTemplate(name, sorted(templates))
    return templates[name]


def agent_setup(
    system_prompt: str, model: str | None, template: str | None, cwd: Path
) -> AgentSetup:
    """What an agent is created with: what was asked, and the named template's
    file (the session's own first, in ``cwd``) if one is named."""
    chosen = None if template is None else agent_template(template, cwd)
    return AgentSetup.of(system_prompt, model, chosen)


def workflows(cwd: Path) -> dict[str, Workflow]:
    found = {}
    for stem, file in _markdown_files("commands", cwd).items():
        fields, body = split_front_matter(file.read_text(encoding="utf-8"))
        found[stem] = Workflow(stem, fields.get("description", ""), body)
    return found


def expand_workflow(message: str, cwd: Path) -> str:
    """The prompt for a `/workflow arguments` message; other messages are unchanged."""
    if not message.startswith("/"):
        return message
    name, _, arguments = message[1:].partition(" ")
    workflow = workflows(cwd).get(name.strip())
    return workflow.expand(arguments) if workflow else message
