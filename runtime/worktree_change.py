"""One file a command changed, as the work tree comparisons find it."""

from __future__ import annotations

from dataclasses import dataclass

from domain.file_changes import FileChange


@dataclass(frozen=True)
class Change:
    """``path`` relative to the folder compared; a renamed file's old one in ``previous_path``."""

    path: str
    kind: FileChange
    diff: str
    previous_path: str | None = None
