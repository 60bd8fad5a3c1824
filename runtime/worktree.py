"""What a tool call changed in an agent's folder: a snapshot before, one after.

In a git work tree the snapshots are trees of the working tree as it is and
the diffs git's own (runtime/worktree_git.py); elsewhere a bounded scan and
difflib (runtime/worktree_scan.py). Everything is under the folder given.
The functions here block (git, the file system): callers run them in a
thread. A comparison that fails is logged as a WARNING and finds nothing: it
never breaks the agent's turn.

Bash calls are watched per folder (``FOLDERS``), because two agents may share
one and run commands at once. While any Bash call is open in a folder it has
one baseline, taken when the first opened; each call that ends takes what
changed since the baseline, and the baseline moves on. So a change made while
two calls were running goes to the first of them to end: every change is
recorded once and none is lost, though the call it is recorded under may not
be the one that made it (podium does not trace processes).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from runtime import worktree_git, worktree_scan
from runtime.worktree_change import Change
from runtime.worktree_git import GitError, GitSnapshot
from runtime.worktree_scan import ScanSnapshot

logger = logging.getLogger(__name__)

Snapshot = GitSnapshot | ScanSnapshot

__all__ = ["FOLDERS", "Change", "Folders", "Snapshot", "compare", "take"]


def take(root: Path, only: str | None = None, like: Snapshot | None = None) -> Snapshot | None:
    """The folder ``root`` (or the one file ``only`` in it) now; the same kind
    of snapshot as ``like`` when given. None when it cannot be taken (logged)."""
    try:
        if isinstance(like, ScanSnapshot):
            return _scan(root, only)
        prefix = (
            like.prefix if isinstance(like, GitSnapshot) else worktree_git.work_tree_prefix(root)
        )
        if prefix is None:
            return _scan(root, only)
        return worktree_git.snapshot(root, only, prefix)
    except (GitError, OSError) as error:
        logger.warning("could not look at the files in %s: %s", root, error)
        return None


def _scan(root: Path, only: str | None) -> ScanSnapshot:
    found = worktree_scan.snapshot(root, only)
    if found.cut_at is not None:
        logger.warning(
            "the scan of %s stopped at %d files: changes to files after %s are not recorded",
            root,
            len(found.entries),
            "/".join(found.cut_at),
        )
    return found


def compare(before: Snapshot | None, after: Snapshot | None) -> list[Change]:
    """What changed from ``before`` to ``after``; nothing when either is missing
    or the comparison fails (logged)."""
    try:
        if isinstance(before, GitSnapshot) and isinstance(after, GitSnapshot):
            return worktree_git.changes(before, after)
        if isinstance(before, ScanSnapshot) and isinstance(after, ScanSnapshot):
            return worktree_scan.changes(before, after)
    except (GitError, OSError) as error:
        logger.warning(
            "could not compare the files in %s: %s", before.root if before else "?", error
        )
    return []


@dataclass
class _Folder:
    lock: threading.Lock = field(default_factory=threading.Lock)
    baseline: Snapshot | None = None
    open: set[str] = field(default_factory=set)


class Folders:
    """Bash calls open in each folder, and each folder's baseline (see above)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folders: dict[Path, _Folder] = {}

    def _folder(self, root: Path) -> _Folder:
        with self._lock:
            return self._folders.setdefault(root, _Folder())

    def begin(self, root: Path, call: str) -> None:
        """A call starts in ``root``: the first open one takes the baseline."""
        folder = self._folder(root)
        with folder.lock:
            if not folder.open:
                folder.baseline = take(root)
            folder.open.add(call)

    def end(self, root: Path, call: str) -> list[Change]:
        """The call ended: what changed since the baseline is its."""
        folder = self._folder(root)
        with folder.lock:
            if call not in folder.open:
                return []
            folder.open.discard(call)
            after = take(root, like=folder.baseline) if folder.baseline else take(root)
            found = compare(folder.baseline, after)
            # A folder stays listed (a lock and nothing else once idle): one
            # dropped could be the one a concurrent begin is about to use.
            folder.baseline = after if folder.open else None
        return found


FOLDERS = Folders()  # the runtime's, for every agent it runs
