"""A folder outside git: a bounded scan of its files, compared with difflib.

A snapshot walks the folder in a fixed order (each directory's entries
sorted, depth first), skipping version control and dependency folders, and
keeps each file's size, mtime and inode, and the content of small ones (for
the diff; a total cap bounds the memory). Comparing reads again only what
changed by its stat. A scan stopped by the file cap covers a prefix of that
order: only paths both scans covered are compared, so nothing past the cap
looks created or deleted, and the snapshot says it was cut short.
A file deleted and one created with the same content is a rename.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from domain.file_changes import FileChange
from runtime.worktree_change import Change

MAX_FILES = 10_000  # files a scan looks at
KEEP_FILE_BYTES = 1_000_000  # a larger file is compared by its stat, and has no diff
KEEP_TOTAL_BYTES = 16_000_000  # contents a snapshot keeps, in all
SKIPPED = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
    }
)
_BINARY_PROBE = 8000  # bytes git looks at for a NUL to call a file binary


@dataclass(frozen=True)
class Entry:
    key: tuple[int, int, int]  # size, mtime_ns, inode: unchanged means not rewritten
    content: bytes | None  # None: too large to keep
    digest: bytes | None


@dataclass(frozen=True)
class ScanSnapshot:
    root: Path
    only: str | None
    entries: dict[str, Entry]
    cut_at: tuple[str, ...] | None  # the last path scanned, when MAX_FILES stopped the scan

    def covers(self, path: str) -> bool:
        return self.cut_at is None or tuple(path.split("/")) <= self.cut_at


def _entry(path: Path, info: os.stat_result, budget: int) -> Entry:
    key = (info.st_size, info.st_mtime_ns, info.st_ino)
    if info.st_size > min(KEEP_FILE_BYTES, budget):
        return Entry(key, None, None)
    try:
        content = path.read_bytes()
    except OSError:
        return Entry(key, None, None)
    return Entry(key, content, hashlib.blake2b(content, digest_size=16).digest())


def snapshot(root: Path, only: str | None = None) -> ScanSnapshot:
    entries: dict[str, Entry] = {}
    budget = KEEP_TOTAL_BYTES
    if only is not None:
        try:
            info = (root / only).lstat()
        except OSError:
            return ScanSnapshot(root, only, entries, None)
        if stat.S_ISREG(info.st_mode):
            entries[only] = _entry(root / only, info, budget)
        return ScanSnapshot(root, only, entries, None)
    last: tuple[str, ...] = ()
    for path, relative in _walk(root, ""):
        if len(entries) >= MAX_FILES:
            return ScanSnapshot(root, only, entries, last)
        try:
            info = path.lstat()
        except OSError:
            continue
        found = _entry(path, info, budget)
        budget -= len(found.content or b"")
        entries[relative] = found
        last = tuple(relative.split("/"))
    return ScanSnapshot(root, only, entries, None)


def _walk(folder: Path, shown: str) -> Iterator[tuple[Path, str]]:
    """Regular files, each directory's entries by name, depth first: the order of
    their paths' parts, so a scan cut short covered every path up to its last."""
    try:
        with os.scandir(folder) as listing:
            items = sorted(listing, key=lambda e: e.name)
    except OSError:
        return
    for item in items:
        if item.is_dir(follow_symlinks=False):
            if item.name not in SKIPPED:
                yield from _walk(Path(item.path), f"{shown}{item.name}/")
        elif item.is_file(follow_symlinks=False):
            yield Path(item.path), f"{shown}{item.name}"


def changes(before: ScanSnapshot, after: ScanSnapshot) -> list[Change]:
    """What changed between two scans of the same folder, difflib's diff for each."""
    paths = [
        p
        for p in sorted(before.entries.keys() | after.entries.keys())
        if before.covers(p) and after.covers(p)
    ]
    created: list[str] = []
    deleted: list[str] = []
    found: list[Change] = []
    for path in paths:
        old, new = before.entries.get(path), after.entries.get(path)
        if old is None:
            created.append(path)
        elif new is None:
            deleted.append(path)
        elif old.key != new.key and (old.digest is None or old.digest != new.digest):
            found.append(Change(path, FileChange.MODIFIED, file_diff(path, old, new)))
    for path in deleted:
        old = before.entries[path]
        twin = next(
            (
                p
                for p in created
                if old.digest is not None and after.entries[p].digest == old.digest
            ),
            None,
        )
        if twin is not None:
            created.remove(twin)
            found.append(Change(twin, FileChange.RENAMED, rename_diff(path, twin), path))
        else:
            found.append(Change(path, FileChange.DELETED, file_diff(path, old, None)))
    found += [Change(p, FileChange.CREATED, file_diff(p, None, after.entries[p])) for p in created]
    return sorted(found, key=lambda c: c.path)


def rename_diff(old: str, new: str) -> str:
    return (
        f"diff --git a/{old} b/{new}\nsimilarity index 100%\nrename from {old}\nrename to {new}\n"
    )


def file_diff(path: str, old: Entry | None, new: Entry | None) -> str:
    """A unified diff as git writes one; a note for a binary or too large file."""
    before = b"" if old is None else old.content
    after = b"" if new is None else new.content
    if before is None or after is None:
        return f"(no diff: {path} is larger than {KEEP_FILE_BYTES:,} bytes)\n"
    if b"\0" in before[:_BINARY_PROBE] or b"\0" in after[:_BINARY_PROBE]:
        return f"Binary files {_label('a', path, old)} and {_label('b', path, new)} differ\n"
    return "".join(
        difflib.unified_diff(
            before.decode("utf-8", errors="replace").splitlines(keepends=True),
            after.decode("utf-8", errors="replace").splitlines(keepends=True),
            fromfile=_label("a", path, old),
            tofile=_label("b", path, new),
        )
    )


def _label(side: str, path: str, entry: Entry | None) -> str:
    return "/dev/null" if entry is None else f"{side}/{path}"
