"""A git work tree's state as a tree object, and git's own diff between two.

The state before a command is the working tree as it is, not HEAD: a file
already dirty (or untracked) before the command must show only what the
command did to it. So a snapshot adds the working tree to a *temporary*
index (a copy of the real one, so git's stat cache spares rehashing clean
files) and writes it as a tree; comparing two such trees with ``git
diff-tree -M`` gives what changed in between, renames detected, binary files
as git's one-line note. The real index, HEAD and refs are never touched; the
blobs written are unreachable objects git's gc removes in time. Ignored files
are not in the tree (as git status does not show them), unless a file tool
names one: a single file is added whatever .gitignore says.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from domain.file_changes import FileChange
from runtime.worktree_change import Change

GIT_TIMEOUT = 15.0  # seconds, for each git command
# What the environment may say that would point git elsewhere than the folder.
_GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_PREFIX")
_SECTION = re.compile(r"^diff --git ", re.MULTILINE)  # content lines start with +, - or space
_KINDS = {"A": FileChange.CREATED, "C": FileChange.CREATED, "D": FileChange.DELETED}


class GitError(Exception):
    """A git command failed or took too long."""


@dataclass(frozen=True)
class GitSnapshot:
    """The folder (``root``, ``only`` a file in it or None for all of it) as git saw it."""

    root: Path
    only: str | None
    prefix: str  # the folder's path inside the work tree ("" at its top, else ending in /)
    tree: str


def _git(root: Path, *args: str, index: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # never refresh the real index behind the agent's back
    if index is not None:
        env["GIT_INDEX_FILE"] = str(index)
    command = ["git", "-C", str(root), "-c", "core.quotepath=off", *args]
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=GIT_TIMEOUT, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitError(f"git {args[0]}: {error}") from error
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {said[-1] if said else done.returncode}")
    return done.stdout.decode("utf-8", errors="replace")


def work_tree_prefix(root: Path) -> str | None:
    """The folder's path inside its git work tree, or None when it lies in none."""
    if shutil.which("git") is None or not root.is_dir():
        return None
    try:
        inside, prefix = (
            _git(root, "rev-parse", "--is-inside-work-tree", "--show-prefix") + "\n"
        ).split("\n")[:2]
    except GitError:
        return None
    return prefix if inside == "true" else None


def _pathspec(prefix: str, only: str | None) -> str:
    return f":(top,literal){prefix}{only}" if only else f":(top){prefix}"


def snapshot(root: Path, only: str | None, prefix: str) -> GitSnapshot:
    with tempfile.TemporaryDirectory(prefix="podium-index-") as scratch:
        index = Path(scratch) / "index"
        real = root / _git(root, "rev-parse", "--git-path", "index").strip()
        if real.is_file():
            shutil.copyfile(real, index)
        if only is None:
            _git(root, "add", "--all", "--", _pathspec(prefix, None), index=index)
        else:  # present, new or gone: update-index takes all three, .gitignore aside
            _git(root, "update-index", "--add", "--remove", "--", only, index=index)
        tree = _git(root, "write-tree", index=index).strip()
    return GitSnapshot(root, only, prefix, tree)


def changes(before: GitSnapshot, after: GitSnapshot) -> list[Change]:
    """What changed between two snapshots of the same folder, git's diff for each."""
    if before.tree == after.tree:
        return []
    spec = _pathspec(before.prefix, before.only)
    common = ["-r", "-M", "--no-color", "--no-ext-diff", "--no-textconv"]
    if before.prefix:
        common.append(f"--relative={before.prefix}")
    names = _git(
        before.root,
        "diff-tree",
        *common,
        "-z",
        "--name-status",
        before.tree,
        after.tree,
        "--",
        spec,
    )
    patch = _git(before.root, "diff-tree", *common, "-p", before.tree, after.tree, "--", spec)
    entries = _entries(names)
    diffs = _sections(patch)
    if len(diffs) != len(entries):  # never seen; each file's own diff then
        diffs = [
            _git(before.root, "diff-tree", *common, "-p", before.tree, after.tree, "--", *paths)
            for paths in ([f":(top,literal){before.prefix}{p}" for p in e[1:]] for e in entries)
        ]
    found: list[Change] = []
    for (status, *paths), diff in zip(entries, diffs, strict=True):
        if status.startswith("R"):
            found.append(Change(paths[1], FileChange.RENAMED, diff, previous_path=paths[0]))
        else:
            found.append(Change(paths[-1], _KINDS.get(status[0], FileChange.MODIFIED), diff))
    return found


def _entries(names: str) -> list[list[str]]:
    """``--name-status -z``: a status, then one path (two for a rename or copy)."""
    fields = names.split("\0")
    entries: list[list[str]] = []
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i]
        count = 2 if status[0] in "RC" else 1
        entries.append([status, *fields[i + 1 : i + 1 + count]])
        i += 1 + count
    return entries


def _sections(patch: str) -> list[str]:
    """A patch split into each file's diff."""
    starts = [m.start() for m in _SECTION.finditer(patch)]
    return [patch[a:b] for a, b in zip(starts, [*starts[1:], len(patch)], strict=True)]
