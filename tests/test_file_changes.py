"""Every file an agent changes is a FileChanged with the right kind and diff:
file tools' and Bash's, in a git work tree (git's diff) and outside one
(difflib's). The real SDK and bundled CLI against the model double
(tests/scenarios/file_changes.toml), Bash in Claude Code's sandbox, real
PostgreSQL, real git. One podium serves the whole module (each test has
folders of its own)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from gateway.audit import run_named
from gateway.system import System
from tests.conftest import _create_database, _drop_database
from tests.test_runtime import rows, until
from tests.test_sandbox import demo_config

pytestmark = pytest.mark.anyio

SCENARIO = Path(__file__).parent / "scenarios" / "file_changes.toml"


@pytest.fixture(scope="module")
def anyio_backend() -> tuple[str, dict[str, bool]]:
    """The module's tests share one event loop, the one its podium runs on."""
    return ("asyncio", {"use_uvloop": True})


@pytest.fixture(scope="module")
def module_database(pg_admin: str, template_database: str) -> Iterator[str]:
    name = f"podium_t_{uuid.uuid4().hex[:12]}"
    yield _create_database(pg_admin, name, template=template_database)
    _drop_database(pg_admin, name)


@pytest.fixture(scope="module")
async def system(
    module_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[System]:
    config = demo_config(module_database, tmp_path_factory.mktemp("file-changes"))
    config.cwd.mkdir()
    async with System(dataclasses.replace(config, scenario=SCENARIO)) as running:
        yield running


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)
    return done.stdout.decode()


@dataclasses.dataclass
class Worker:
    system: System
    session_id: UUID
    agent_id: UUID
    name: str
    folder: Path

    async def does(self, command: str) -> list[dict[str, Any]]:
        """Command the agent, wait for the turn's end: the turn's FileChanged payloads."""
        app = self.system.app
        task = await asyncio.to_thread(
            app.command_agent, self.session_id, self.name, command, "user"
        )
        mine = "FROM events WHERE stream_id = %s AND payload->>'task' = %s"
        await until(
            self.system,
            f"SELECT count(*) {mine} AND event_type = 'TurnCompleted'",
            self.agent_id,
            task,
        )
        found = await rows(
            self.system,
            f"SELECT event_type, payload {mine} ORDER BY notification_id",
            self.agent_id,
            task,
        )
        changes = [payload for kind, payload in found if kind == "FileChanged"]
        assert changes, json.dumps(found)  # what the turn did instead, when it changed nothing
        return changes


async def worker(system: System, folder: str, *, repository: bool) -> Worker:
    """An agent of its own session working in ``folder`` (a git repository with
    notes.txt committed, or a plain folder with notes.txt)."""
    path = system.config.cwd / folder
    path.mkdir()
    (path / "notes.txt").write_text("first\n")
    if repository:
        git(path, "init", "-q")
        git(path, "add", "notes.txt")
        git(path, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "start")
    session = await asyncio.to_thread(system.app.start_session, folder, str(system.config.cwd))
    name = f"w{uuid.uuid4().hex[:6]}"
    agent = await asyncio.to_thread(system.app.create_agent, session.id, name, cwd=folder)
    return Worker(system, session.id, agent.id, name, path)


def only(changes: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(changes) == 1, changes
    return changes[0]


async def test_write_edit_and_notebookedit_each_record_their_diff(system: System) -> None:
    """(The bundled Claude Code has no MultiEdit; NotebookEdit is behind ToolSearch.)"""
    pat = await worker(system, "tools", repository=False)
    written = only(await pat.does("write hello.txt: hello"))
    assert (written["change"], written["path"], written["tool"]) == (
        "created",
        "hello.txt",
        "Write",
    )
    assert written["diff"] == "--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1 @@\n+hello\n"
    assert written["tool_use_id"].startswith("toolu_")
    edited = only(await pat.does("edit hello.txt: hello -> goodbye"))
    assert (edited["change"], edited["tool"]) == ("modified", "Edit")
    assert "-hello\n+goodbye\n" in edited["diff"]
    assert (pat.folder / "hello.txt").read_text() == "goodbye\n"
    empty = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    await pat.does(f"write book.ipynb: {empty}")
    cell = only(await pat.does("add a cell to book.ipynb: print(42)"))
    assert (cell["change"], cell["path"], cell["tool"]) == (
        "modified",
        "book.ipynb",
        "NotebookEdit",
    )
    assert '"print(42)"' in cell["diff"] and cell["diff"].startswith("--- a/book.ipynb\n")


async def test_a_file_tool_in_a_git_repository_records_gits_diff(system: System) -> None:
    gina = await worker(system, "tools-repo", repository=True)
    written = only(await gina.does("write src/new.txt: first"))
    assert written["diff"].startswith("diff --git a/src/new.txt b/src/new.txt\nnew file mode ")
    edited = only(await gina.does("edit src/new.txt: first -> second"))  # the CLI read it
    assert edited["diff"].startswith("diff --git a/src/new.txt b/src/new.txt\nindex ")
    assert edited["diff"].endswith("@@ -1 +1 @@\n-first\n+second\n")


async def test_bash_in_a_git_repository_records_gits_diff_of_each_kind(system: System) -> None:
    gina = await worker(system, "repo", repository=True)
    appended = only(await gina.does("run: echo hi >> notes.txt"))
    assert (appended["change"], appended["path"], appended["tool"]) == (
        "modified",
        "notes.txt",
        "Bash",
    )
    assert appended["diff"].startswith("diff --git a/notes.txt b/notes.txt\nindex ")
    assert appended["diff"].endswith("@@ -1 +1,2 @@\n first\n+hi\n")
    # Dirty before the command: only what the command did.
    again = only(await gina.does("run: echo more >> notes.txt"))
    assert again["diff"].endswith(" first\n hi\n+more\n")
    moved = only(await gina.does("run: mv notes.txt moved.txt"))
    assert (moved["change"], moved["path"], moved["previous_path"]) == (
        "renamed",
        "moved.txt",
        "notes.txt",
    )
    assert "rename from notes.txt\nrename to moved.txt" in moved["diff"]
    removed = only(await gina.does("run: rm moved.txt"))
    assert (removed["change"], removed["path"]) == ("deleted", "moved.txt")
    assert "deleted file mode" in removed["diff"] and "-more\n" in removed["diff"]
    assert git(gina.folder, "status", "--porcelain") == " D notes.txt\n"  # the index untouched


async def test_bash_outside_git_records_difflibs_diff_of_each_kind(system: System) -> None:
    pat = await worker(system, "plain", repository=False)
    appended = only(await pat.does("run: echo hi >> notes.txt"))
    assert (appended["change"], appended["path"], appended["tool"]) == (
        "modified",
        "notes.txt",
        "Bash",
    )
    assert appended["diff"] == "--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1,2 @@\n first\n+hi\n"
    moved = only(await pat.does("run: mv notes.txt moved.txt"))
    assert (moved["change"], moved["path"], moved["previous_path"]) == (
        "renamed",
        "moved.txt",
        "notes.txt",
    )
    removed = only(await pat.does("run: rm moved.txt"))
    assert (removed["change"], removed["diff"]) == (
        "deleted",
        "--- a/moved.txt\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-first\n-hi\n",
    )


async def test_a_failed_command_still_records_what_it_changed(system: System) -> None:
    pat = await worker(system, "failing", repository=False)
    half = only(await pat.does("run: echo half > half.txt; exit 3"))
    assert (half["change"], half["path"], half["diff"].splitlines()[-1]) == (
        "created",
        "half.txt",
        "+half",
    )
    (completed,) = await rows(
        system,
        "SELECT payload->>'is_error' FROM events WHERE event_type = 'ToolUseCompleted' "
        "AND payload->>'tool_use_id' = %s",
        half["tool_use_id"],
    )
    assert completed == ("true",)


async def test_the_read_model_and_the_audit_say_which_call_changed_what(system: System) -> None:
    rob = await worker(system, "audited", repository=True)
    await rob.does("run: echo hi >> notes.txt && mv notes.txt kept.txt")
    (row,) = await until(
        system,
        "SELECT count(*), min(path), min(previous_path), min(tool), min(tool_use_id), "
        "bool_and(diff_cut_from IS NULL) FROM file_changes WHERE agent_id = %s",
        rob.agent_id,
    )
    count, path, previous, tool, use_id, whole = row
    assert (count, path, previous, tool, whole) == (1, "kept.txt", "notes.txt", "Bash", True)
    audit = await asyncio.to_thread(
        run_named, system.conninfo, "file-changes", {"agent": rob.name.upper()}
    )
    (found,) = [dict(zip(audit.columns, r, strict=True)) for r in audit.rows]
    assert found["change"] == "renamed" and found["previous_path"] == "notes.txt"
    assert (found["tool"], found["tool_use_id"], found["diff_note"]) == ("Bash", use_id, None)
    assert "+hi" in found["diff"]
