"""File changes in the domain: the kinds, the cap on a recorded diff, a rename's old path."""

from __future__ import annotations

import pytest

from domain.application import Podium
from domain.file_changes import DIFF_CAP, FileChange, capped


def test_a_diff_within_the_cap_is_recorded_whole() -> None:
    assert capped("+a\n") == ("+a\n", None)


def test_a_long_diff_is_cut_at_a_line_end_and_says_how_long_it_was() -> None:
    diff = "".join(f"+line {n}\n" for n in range(20_000))
    cut, whole = capped(diff)
    assert whole == len(diff) and len(cut) <= DIFF_CAP
    assert cut.endswith("\n") and diff.startswith(cut)


def test_the_agent_records_a_rename_with_its_old_path_and_a_cut_diff() -> None:
    app = Podium()
    session = app.start_session("files", "/work")
    agent = app.create_agent(session.id, "alice")
    agent.record_file_change(
        "b.txt", FileChange.RENAMED, "", tool="Bash", tool_use_id="t1", previous_path="a.txt"
    )
    agent.record_file_change(
        "big.txt", "created", "+x\n" * DIFF_CAP, tool="Write", tool_use_id="t2"
    )
    renamed, big = agent.collect_events()[-2:]
    assert (renamed.payload.change, renamed.payload.previous_path) == ("renamed", "a.txt")
    assert big.payload.diff_cut_from == 3 * DIFF_CAP and len(big.payload.diff) <= DIFF_CAP


def test_only_a_rename_has_a_previous_path() -> None:
    app = Podium()
    agent = app.create_agent(app.start_session("f", "/w").id, "bob")
    with pytest.raises(ValueError, match="previous path"):
        agent.record_file_change(
            "b", "modified", "", tool="Bash", tool_use_id="t", previous_path="a"
        )
    with pytest.raises(ValueError):
        agent.record_file_change("b", "moved", "", tool="Bash", tool_use_id="t")
