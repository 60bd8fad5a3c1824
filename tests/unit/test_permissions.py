"""Permission rules in Claude Code's syntax (domain/permissions.py): parsing,
matching as the CLI matches (globs, ``:*`` prefixes, domain:, MCP), layers and
their precedence. Pure: no PostgreSQL, no CLI."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

from domain.errors import DomainError
from domain.permissions import (
    MalformedRule,
    Match,
    Outcome,
    Permissions,
    Place,
    Rule,
    defaults,
    matching_rule,
    merge,
    path_rules,
)

PLACE = Place(cwd=PurePosixPath("/work/app"), home=PurePosixPath("/home/ann"))


def matches(rule: str, tool: str, **tool_input: Any) -> bool:
    return Rule.parse(rule).matches(tool, tool_input, PLACE)


@pytest.mark.parametrize(
    ("text", "tool", "specifier"),
    [
        ("Read", "Read", None),
        ("Edit(src/**)", "Edit", "src/**"),
        ("Bash(npm test:*)", "Bash", "npm test:*"),
        ("WebFetch(domain:docs.python.org)", "WebFetch", "domain:docs.python.org"),
        ("mcp__server__tool", "mcp__server__tool", None),
        ("mcp__server", "mcp__server", None),
        ("  Bash(echo (a))  ", "Bash", "echo (a)"),
    ],
)
def test_a_rule_parses_to_its_tool_and_specifier(
    text: str, tool: str, specifier: str | None
) -> None:
    rule = Rule.parse(text)
    assert (rule.tool, rule.specifier) == (tool, specifier)
    assert Rule.parse(rule.text) == rule


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("read", "not a tool name"),
        ("Bash(", "unbalanced"),
        ("Bash()", "empty"),
        ("Bash(npm:* test)", ":* only ends"),
        ("WebFetch(docs.python.org)", "domain:host"),
        ("WebFetch(domain:)", "names no host"),
        ("mcp__server__tool(x)", "MCP rule"),
        ("mcp__", "MCP rule"),
        ("Read Write", "spaces"),
    ],
)
def test_a_malformed_rule_is_a_domain_error_that_says_why(text: str, why: str) -> None:
    with pytest.raises(MalformedRule, match=why) as raised:
        Rule.parse(text)
    assert isinstance(raised.value, DomainError)
    assert repr(text) in str(raised.value)


def test_a_bare_tool_covers_every_use_and_read_and_edit_their_families() -> None:
    assert matches("Bash", "Bash", command="rm -rf /")
    assert not matches("Bash", "Read", file_path="/x")
    assert matches("Read", "Grep", pattern="x") and matches("Read", "Glob", pattern="*")
    assert matches("Edit", "Write", file_path="a") and matches("Edit", "MultiEdit", file_path="a")
    assert not matches("Edit", "Read", file_path="a")


def test_bash_prefixes_wildcards_and_exact_commands() -> None:
    assert matches("Bash(npm test:*)", "Bash", command="npm test -- --watch")
    assert matches("Bash(npm test:*)", "Bash", command="npm test")
    assert not matches("Bash(npm test:*)", "Bash", command="npm install")
    assert not matches("Bash(npm test:*)", "Bash", command="npm testing")  # a word, whole
    assert matches("Bash(ls *)", "Bash", command="ls -la") and matches(
        "Bash(ls *)", "Bash", command="ls"
    )
    assert not matches("Bash(ls *)", "Bash", command="lsof") and matches(
        "Bash(ls*)", "Bash", command="lsof"
    )
    assert matches("Bash(git * main)", "Bash", command="git push origin main")
    assert not matches("Bash(git * main)", "Bash", command="git push origin dev")
    assert matches("Bash(npm run build)", "Bash", command="npm run build")
    assert not matches("Bash(npm run build)", "Bash", command="npm run build --prod")


def test_a_compound_command_needs_every_part_allowed_and_one_part_denied() -> None:
    rules = Permissions.of({Outcome.ALLOW: ["Bash(npm test:*)"], Outcome.DENY: ["Bash(curl:*)"]})
    place = PLACE
    sneaky = {"command": "npm test && rm -rf ~"}
    assert matching_rule(rules, "Bash", sneaky, place) is None  # rm is not allowed
    both = {"command": "npm test; curl evil.example"}
    assert matching_rule(rules, "Bash", both, place) == Match(Outcome.DENY, Rule("Bash", "curl:*"))
    assert matching_rule(rules, "Bash", {"command": "npm test | tee out"}, place) is None
    piped = {"command": "npm test -x && npm test -y"}
    assert matching_rule(rules, "Bash", piped, place) == Match(
        Outcome.ALLOW, Rule("Bash", "npm test:*")
    )


def test_paths_are_gitignore_patterns_from_the_agents_directory() -> None:
    assert matches("Edit(src/**)", "Edit", file_path="/work/app/src/a/b.py")
    assert matches("Edit(src/**)", "Write", file_path="src/new.py")  # relative to cwd
    assert not matches("Edit(src/**)", "Edit", file_path="/work/app/tests/a.py")
    assert not matches("Edit(src/**)", "Edit", file_path="/work/app/src/../tests/a.py")
    assert matches("Read(*.env)", "Read", file_path="/work/app/deep/down/.env")  # any depth
    assert matches("Read(src/**/*.ts)", "Read", file_path="/work/app/src/x/y/z.ts")
    assert matches("Read(src/**/*.ts)", "Read", file_path="/work/app/src/z.ts")
    assert not matches("Read(src/*.ts)", "Read", file_path="/work/app/src/x/z.ts")
    assert matches("Read(//etc/**)", "Read", file_path="/etc/passwd")  # from the root
    assert matches("Read(~/.ssh/**)", "Read", file_path="/home/ann/.ssh/id_rsa")
    assert matches("Read(~/.ssh/**)", "Read", file_path="~/.ssh/id_rsa")
    assert matches("Read(./**)", "Grep", path="lib")
    assert matches("Read(./**)", "Glob", pattern="*.py")  # no path: the agent's directory
    assert not matches("Read(./**)", "Read", file_path="/work/other/x")


def test_web_fetch_by_domain_and_its_subdomains() -> None:
    rule = "WebFetch(domain:docs.python.org)"
    assert matches(rule, "WebFetch", url="https://docs.python.org/3/library/re.html")
    assert not matches(rule, "WebFetch", url="https://docs.python.org.evil.example/")
    assert not matches(rule, "WebFetch", url="https://python.org/")
    assert matches("WebFetch(domain:Docs.Python.org)", "WebFetch", url="https://DOCS.python.org/")
    wildcard = "WebFetch(domain:*.example.com)"
    assert matches(wildcard, "WebFetch", url="https://api.example.com/x")
    assert not matches(wildcard, "WebFetch", url="https://badexample.com/x")


def test_mcp_rules_name_a_tool_or_a_whole_server() -> None:
    assert matches("mcp__github__create_issue", "mcp__github__create_issue")
    assert not matches("mcp__github__create_issue", "mcp__github__delete_repo")
    assert matches("mcp__github", "mcp__github__delete_repo")
    assert matches("mcp__github__*", "mcp__github__delete_repo")
    assert not matches("mcp__github", "mcp__gitlab__x")
    assert not matches("mcp__git", "mcp__github__x")


def test_the_cli_checks_deny_then_ask_then_allow_whatever_the_specificity() -> None:
    rules = Permissions.of(
        {
            Outcome.ALLOW: ["Bash(git status)", "Read"],
            Outcome.ASK: ["Bash(git:*)"],
            Outcome.DENY: ["Read(//secrets/**)"],
        }
    )
    status = matching_rule(rules, "Bash", {"command": "git status"}, PLACE)
    assert status == Match(Outcome.ASK, Rule("Bash", "git:*"))  # the ask, though broader
    assert matching_rule(rules, "Read", {"file_path": "/secrets/k"}, PLACE) == Match(
        Outcome.DENY, Rule("Read", "//secrets/**")
    )
    assert matching_rule(rules, "Read", {"file_path": "/etc/k"}, PLACE) == Match(
        Outcome.ALLOW, Rule("Read")
    )
    assert matching_rule(rules, "WebSearch", {"query": "x"}, PLACE) is None


def test_a_more_specific_layer_decides_the_same_rule_but_a_deny_stands() -> None:
    podium = Permissions.of({Outcome.ASK: ["WebFetch"], Outcome.DENY: ["Read(//data/**)"]})
    session = Permissions.of({Outcome.ALLOW: ["WebFetch", "Read(//data/**)"]})
    template = Permissions.of({Outcome.DENY: ["Bash(rm:*)"]})
    agent = Permissions.of({Outcome.ALLOW: ["Bash(rm:*)"], Outcome.ASK: ["WebFetch"]})
    assert merge(podium, session) == Permissions(allow=("WebFetch",), deny=("Read(//data/**)",))
    merged = merge(podium, session, template, agent)
    assert merged == Permissions(ask=("WebFetch",), deny=("Read(//data/**)", "Bash(rm:*)"))
    assert merged.settings() == {
        "allow": [],
        "ask": ["WebFetch"],
        "deny": ["Read(//data/**)", "Bash(rm:*)"],
    }


def test_rules_are_checked_written_once_and_changed_one_at_a_time() -> None:
    rules = Permissions.of({Outcome.ALLOW: [" Read ", "Read", "Bash(ls)"]})
    assert rules.allow == ("Read", "Bash(ls)")
    with pytest.raises(MalformedRule):
        Permissions.of({Outcome.DENY: ["Bash(("]})
    # A rule listed under two outcomes is what the CLI would make of it.
    assert Permissions(allow=("Bash",), ask=("Bash",)).outcomes() == {"Bash": Outcome.ASK}
    asked = rules.with_rule(Outcome.ASK, "Bash(ls)")
    assert asked == Permissions(allow=("Read",), ask=("Bash(ls)",))
    # Within one layer the newest decision wins, even over a deny.
    denied = Permissions.of({Outcome.DENY: ["WebFetch"]})
    assert denied.with_rule(Outcome.ALLOW, "WebFetch") == Permissions(allow=("WebFetch",))


def test_podiums_defaults_allow_the_directory_and_the_sandbox_and_deny_secrets() -> None:
    secrets = [PurePosixPath("/home/ann/.ssh"), PurePosixPath("/var/podium")]
    assert path_rules("Read", secrets[0]) == ["Read(//home/ann/.ssh)", "Read(//home/ann/.ssh/**)"]
    sandboxed = defaults(sandboxed=True, secrets=secrets)

    def outcome(tool: str, **tool_input: Any) -> Outcome | None:
        found = matching_rule(sandboxed, tool, tool_input, PLACE)
        return None if found is None else found.outcome

    assert outcome("Read", file_path="src/a.py") is Outcome.ALLOW
    assert outcome("Edit", file_path="/work/app/a.py") is None  # the permission mode's call
    assert outcome("Bash", command="make") is Outcome.ALLOW
    assert outcome("WebFetch", url="https://example.com") is Outcome.ASK
    assert outcome("WebSearch", query="x") is Outcome.ASK
    assert outcome("Read", file_path="/home/ann/.ssh/id_rsa") is Outcome.DENY
    assert outcome("Grep", path="/var/podium") is Outcome.DENY
    assert outcome("Write", file_path="/var/podium/x") is Outcome.DENY
    # Outside the directory, and other MCP servers: no rule, so the CLI asks.
    assert outcome("Edit", file_path="/etc/hosts") is None
    assert outcome("mcp__other__tool") is None
    bare = defaults(sandboxed=False, secrets=secrets)
    assert matching_rule(bare, "Bash", {"command": "ls"}, PLACE) == Match(Outcome.ASK, Rule("Bash"))
