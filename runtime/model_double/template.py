"""`{name}` and `{name|filter}` substitution in scenario texts and tool inputs.

Only names the double knows (the rule's named groups, its defaults and the
built-in variables) are replaced; any other `{...}` is left as written, so
code in a scenario (f-strings, dict literals) needs no escaping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{(\w+)(?:\|(\w+))?\}")

# Words that say nothing about what a file is for; skipped when naming it.
_FILLER = frozenset(
    (
        "a",
        "an",
        "the",
        "to",
        "of",
        "for",
        "and",
        "or",
        "in",
        "on",
        "with",
        "that",
        "this",
        "it",
        "me",
        "my",
        "please",
        "create",
        "make",
        "write",
        "build",
        "add",
        "implement",
        "simple",
        "small",
        "new",
        "quick",
        "basic",
        "some",
        "app",
        "application",
        "program",
        "script",
        "file",
        "code",
        "function",
    )
)


def _words(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    meaningful = [w for w in words if w not in _FILLER]
    return (meaningful or words or ["task"])[:3]


def slug(text: str) -> str:
    """A short hyphenated name: `Write a Fibonacci function` -> `fibonacci`."""
    return "-".join(_words(text))


def snake(text: str) -> str:
    """A short Python-friendly name: `parse CSV rows` -> `parse_csv_rows`."""
    return "_".join(_words(text))


FILTERS: dict[str, Callable[[str], str]] = {
    "slug": slug,
    "snake": snake,
    "lower": str.lower,
    "upper": str.upper,
    "title": str.title,
    "strip": str.strip,
}


def render(text: str, variables: Mapping[str, str]) -> str:
    """`text` with known `{name}` / `{name|filter}` placeholders filled in."""

    def fill(found: re.Match[str]) -> str:
        name, filter_name = found.group(1), found.group(2)
        if name not in variables or (filter_name and filter_name not in FILTERS):
            return found.group(0)
        value = variables[name]
        return FILTERS[filter_name](value) if filter_name else value

    return _PLACEHOLDER.sub(fill, text)


def render_value(value: Any, variables: Mapping[str, str]) -> Any:
    """`render` applied to every string inside a TOML value (tables, arrays)."""
    if isinstance(value, str):
        return render(value, variables)
    if isinstance(value, dict):
        return {key: render_value(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, variables) for item in value]
    return value
