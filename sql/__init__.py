"""podium's SQL, kept as .sql files: the events view, read-model DDL, audit queries."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable


def folder(*parts: str) -> Traversable:
    """A folder of SQL files shipped in this package."""
    node = resources.files(__name__)
    for part in parts:
        node = node / part
    return node


def read(*parts: str) -> str:
    """The text of one SQL file, e.g. ``read("read_models", "agents.sql")``."""
    return folder(*parts).read_text(encoding="utf-8")
