"""The shape of the code: which package may import which, and where topics are written.

DESIGN.md's arrows, checked on the source (no import is run): gateway ->
runtime -> domain; gateway -> summarizer -> projections; gateway -> transfer ->
runtime; gateway -> projections -> domain; gateway, runtime and
projections -> eventlog -> domain. ``domain`` imports none of them, nor any
infrastructure.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "eventlog", "projections", "runtime", "summarizer", "transfer", "gateway")
# What each package may import of podium's own packages (besides itself).
ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "eventlog": frozenset({"domain"}),
    "projections": frozenset({"domain", "eventlog", "sql"}),
    "runtime": frozenset({"domain", "eventlog", "projections"}),
    # The summarizer is a consumer of the log beside the runtime, not part of it.
    "summarizer": frozenset({"domain", "eventlog", "projections"}),
    # Export and import move streams and the agents' transcripts (runtime's store).
    "transfer": frozenset({"domain", "eventlog", "runtime", "sql"}),
    "gateway": frozenset(
        {"domain", "eventlog", "projections", "runtime", "summarizer", "transfer", "sql"}
    ),
}
INFRASTRUCTURE = (
    "psycopg",
    "psycopg_pool",
    "starlette",
    "uvicorn",
    "claude_agent_sdk",
    "broadcaster",
)
# A topic is "module:Class"; written by hand it breaks silently when a class moves.
TOPIC = re.compile(r"""["']domain\.[a-z_]+:[A-Z]\w+["']""")


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """The top-level names of the modules a file imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package: str) -> None:
    forbidden = set(PACKAGES) - ALLOWED[package] - {package}
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported(path) & forbidden)
        for path in modules(package)
        if imported(path) & forbidden
    }
    assert wrong == {}


def test_domain_imports_no_infrastructure() -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported(path) & set(INFRASTRUCTURE))
        for path in modules("domain")
        if imported(path) & set(INFRASTRUCTURE)
    }
    assert wrong == {}


def test_no_topic_written_by_hand() -> None:
    written = [
        f"{path.relative_to(ROOT)}: {match.group()}"
        for package in (*PACKAGES, "sql", "bench")
        for path in sorted((ROOT / package).rglob("*"))
        if path.suffix in (".py", ".sql")
        for match in TOPIC.finditer(path.read_text())
    ]
    assert written == []


def test_no_module_is_past_four_hundred_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): length
        for package in PACKAGES
        for path in modules(package)
        if (length := len(path.read_text().splitlines())) > 420
    }
    assert long == {}
