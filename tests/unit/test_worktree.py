"""Snapshots of a folder before and after, compared: real git, real files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from domain.file_changes import FileChange
from runtime import worktree_scan
from runtime.worktree import Change, Folders, compare, take
from runtime.worktree_git import GitSnapshot
from runtime.worktree_scan import ScanSnapshot


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q")
    git(folder, "config", "user.email", "t@example.com")
    git(folder, "config", "user.name", "t")
    (folder / "tracked.txt").write_text("one\ntwo\n")
    (folder / "moved.txt").write_text("a file long enough\nto be found again\nafter a move\n")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "start")
    return folder


def changed(folder: Path, act: object, only: str | None = None) -> list[Change]:
    before = take(folder, only)
    assert callable(act)
    act()
    return compare(before, take(folder, only, like=before))


def test_in_git_each_kind_has_gits_own_diff(repo: Path) -> None:
    def act() -> None:
        with (repo / "tracked.txt").open("a") as f:
            f.write("three\n")
        (repo / "new.txt").write_text("hi\n")
        (repo / "moved.txt").rename(repo / "there.txt")

    found = {c.path: c for c in changed(repo, act)}
    assert isinstance(take(repo), GitSnapshot)
    assert found["tracked.txt"].kind is FileChange.MODIFIED
    assert found["tracked.txt"].diff.startswith("diff --git a/tracked.txt b/tracked.txt\n")
    assert "\n two\n+three\n" in found["tracked.txt"].diff
    assert found["new.txt"].kind is FileChange.CREATED and "new file mode" in found["new.txt"].diff
    assert found["there.txt"].kind is FileChange.RENAMED
    assert found["there.txt"].previous_path == "moved.txt"
    assert "rename from moved.txt" in found["there.txt"].diff
    assert len(found) == 3


def test_a_file_dirty_before_shows_only_what_the_command_did(repo: Path) -> None:
    (repo / "tracked.txt").write_text("one\ntwo\ndirty\n")
    (repo / "untracked.txt").write_text("u\n")

    def act() -> None:
        (repo / "tracked.txt").write_text("one\ntwo\ndirty\nmore\n")
        (repo / "untracked.txt").unlink()

    found = {c.path: c for c in changed(repo, act)}
    assert "+more\n" in found["tracked.txt"].diff and "+dirty" not in found["tracked.txt"].diff
    assert found["untracked.txt"].kind is FileChange.DELETED
    git(repo, "diff", "--quiet", "--cached")  # the real index is as it was: nothing staged


def test_nothing_changed_is_nothing(repo: Path, tmp_path: Path) -> None:
    assert changed(repo, lambda: None) == []
    assert changed(tmp_path, lambda: None) == []


def test_a_subfolder_of_a_repository_sees_only_itself_with_paths_relative_to_it(
    repo: Path,
) -> None:
    sub = repo / "sub"
    sub.mkdir()

    def act() -> None:
        (sub / "inner.txt").write_text("in\n")
        (repo / "outer.txt").write_text("out\n")

    (found,) = changed(sub, act)
    assert (found.path, found.kind) == ("inner.txt", FileChange.CREATED)
    assert "b/inner.txt" in found.diff


def test_a_binary_file_is_a_one_line_note(repo: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    for folder in (repo, plain):
        (found,) = changed(folder, lambda f=folder: (f / "blob.bin").write_bytes(b"\0\1\2"))
        assert "Binary files" in found.diff and found.diff.count("\n") <= 4, found.diff


def test_ignored_files_are_not_changes_but_a_named_one_is(repo: Path) -> None:
    (repo / ".gitignore").write_text("*.log\n")
    git(repo, "add", ".gitignore")
    assert changed(repo, lambda: (repo / "x.log").write_text("noise\n")) == []
    (found,) = changed(repo, lambda: (repo / "y.log").write_text("kept\n"), only="y.log")
    assert found.kind is FileChange.CREATED and "+kept" in found.diff


def test_outside_git_a_scan_finds_each_kind_with_difflibs_diff(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a\n")
    (tmp_path / "a").write_text("same content\n")
    (tmp_path / "gone.txt").write_text("bye\n")
    (tmp_path / "node_modules").mkdir()

    def act() -> None:
        with (tmp_path / "notes.txt").open("a") as f:
            f.write("hi\n")
        (tmp_path / "a").rename(tmp_path / "b")
        (tmp_path / "gone.txt").unlink()
        (tmp_path / "node_modules" / "dep.js").write_text("skipped\n")

    assert isinstance(take(tmp_path), ScanSnapshot)
    found = {c.path: c for c in changed(tmp_path, act)}
    assert set(found) == {"notes.txt", "b", "gone.txt"}
    assert found["notes.txt"].diff == "--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1,2 @@\n a\n+hi\n"
    assert (found["b"].kind, found["b"].previous_path) == (FileChange.RENAMED, "a")
    assert found["gone.txt"].kind is FileChange.DELETED and "-bye\n" in found["gone.txt"].diff


def test_a_scan_cut_short_says_so_and_invents_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(worktree_scan, "MAX_FILES", 3)
    for name in ("a", "b", "c", "d", "e"):
        (tmp_path / name).write_text(f"{name}\n")

    def act() -> None:
        (tmp_path / "0").write_text("new\n")  # first in order: pushes "c" past the cap
        (tmp_path / "e").write_text("changed\n")  # past the cap: not seen

    found = changed(tmp_path, act)
    assert [(c.path, c.kind) for c in found] == [("0", FileChange.CREATED)]
    assert "stopped at 3 files" in caplog.text


def test_a_large_file_is_compared_by_its_size_and_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worktree_scan, "KEEP_FILE_BYTES", 10)
    (tmp_path / "big").write_text("x" * 20)
    (found,) = changed(tmp_path, lambda: (tmp_path / "big").write_text("y" * 30))
    assert found.kind is FileChange.MODIFIED and "larger than 10 bytes" in found.diff


def test_a_change_between_two_open_calls_goes_to_the_first_to_end(tmp_path: Path) -> None:
    folders = Folders()
    folders.begin(tmp_path, "one")
    (tmp_path / "early.txt").write_text("1\n")
    folders.begin(tmp_path, "two")
    (tmp_path / "late.txt").write_text("2\n")
    first = folders.end(tmp_path, "two")
    (tmp_path / "last.txt").write_text("3\n")
    second = folders.end(tmp_path, "one")
    assert [c.path for c in first] == ["early.txt", "late.txt"]
    assert [c.path for c in second] == ["last.txt"]
    assert folders.end(tmp_path, "one") == []  # ended already


def test_a_failing_git_finds_nothing_and_says_why(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = take(repo)
    assert isinstance(before, GitSnapshot)
    broken = GitSnapshot(before.root, None, before.prefix, "0" * 40)
    assert compare(broken, take(repo)) == []
    assert "could not compare the files" in caplog.text
