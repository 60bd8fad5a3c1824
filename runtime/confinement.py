"""Keeping agents' file tools inside their working directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Tools that write files, and the input key naming the file.
FILE_TOOLS = {
    "Write": "file_path",
    "Edit": "file_path",
    "MultiEdit": "file_path",
    "NotebookEdit": "notebook_path",
}


def target_path(tool: str, tool_input: dict[str, Any], cwd: Path) -> Path | None:
    """The absolute file a file tool would write, or None for other tools."""
    key = FILE_TOOLS.get(tool)
    raw = tool_input.get(key) if key else None
    if not isinstance(raw, str) or not raw:
        return None
    path = Path(raw)
    return (path if path.is_absolute() else cwd / path).resolve()


def is_inside(path: Path, directory: Path) -> bool:
    return path == directory or directory.resolve() in path.parents


def check_directory(directory: Path, root: Path) -> Path:
    """A directory agents work in must lie inside ``root``: a session's inside
    the workspace, an agent's inside its session's. Relative to ``root``."""
    resolved = (directory if directory.is_absolute() else root / directory).resolve()
    if not is_inside(resolved, root.resolve()):
        raise ValueError(f"{directory} lies outside {root}")
    return resolved
