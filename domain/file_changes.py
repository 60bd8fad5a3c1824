"""What a file change is: its kinds, and how long a recorded diff may be.

A diff is recorded whole up to ``DIFF_CAP`` characters; a longer one (a
generated file, a minified bundle) is cut at the last line end before the
cap, so the log stays small and every event stays readable, and the event
says how long the whole diff was.
"""

from __future__ import annotations

from enum import StrEnum

DIFF_CAP = 64_000  # characters


class FileChange(StrEnum):
    CREATED = "created"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"


def capped(diff: str, cap: int = DIFF_CAP) -> tuple[str, int | None]:
    """``diff`` as recorded, and its whole length when it was cut (else None)."""
    if len(diff) <= cap:
        return diff, None
    end = diff.rfind("\n", 0, cap)
    cut = diff[: end + 1] if end >= 0 else diff[:cap]
    return cut, len(diff)
