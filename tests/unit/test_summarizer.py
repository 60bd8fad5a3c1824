"""The summarizer's pure parts: the answer it accepts, its batches, its pacing,
the API settings it takes from the environment."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest

from domain.summarizer import MAX_CHARS, MAX_WORDS, short_summary
from summarizer.api import DEFAULT_BASE_URL, ApiSettings
from summarizer.backlog import Backlog, Waiting
from summarizer.pacing import MAX_BACKOFF_S, backoff
from summarizer.request import TOOL, EventNote, UnusableAnswer, read_answer, request_body


def answer(*blocks: dict) -> bytes:
    return json.dumps(
        {"content": list(blocks), "usage": {"input_tokens": 9, "output_tokens": 3}}
    ).encode()


def test_an_answer_is_the_forced_tool_call_checked_against_its_schema() -> None:
    called = {
        "type": "tool_use",
        "name": TOOL,
        "input": {"summaries": [{"id": 7, "summary": "ok"}]},
    }
    summaries, usage = read_answer(answer({"type": "text", "text": "sure"}, called))
    assert summaries == {7: "ok"} and (usage.input_tokens, usage.output_tokens) == (9, 3)
    with pytest.raises(UnusableAnswer, match="did not call"):
        read_answer(answer({"type": "text", "text": "here you go: alice wrote a file"}))
    wrong = {"type": "tool_use", "name": TOOL, "input": {"summaries": [{"id": "7"}]}}
    with pytest.raises(UnusableAnswer, match="called with"):
        read_answer(answer(wrong))
    with pytest.raises(UnusableAnswer):
        read_answer(b'{"type": "error"}')


def test_the_request_forces_the_tool_and_carries_every_event() -> None:
    notes = [EventNote(i, "alice", "said", f"line {i}") for i in range(3)]
    body = request_body("claude-haiku-4-5", notes)
    assert body["tool_choice"] == {"type": "tool", "name": TOOL}
    sent = json.loads(body["messages"][0]["content"])["events"]
    assert [e["id"] for e in sent] == [0, 1, 2]


def waiting(session, n: int, at: float = 0.0) -> Waiting:
    return Waiting(session, uuid4(), EventNote(n, "a", "said", "x"), at)


def test_a_batch_is_due_when_full_or_when_its_oldest_waited_long_enough() -> None:
    backlog, session = Backlog(batch=3, wait_s=2.0), uuid4()
    for n in (1, 2):
        backlog.add(waiting(session, n))
    assert backlog.due(1.0, newest_first=False, limit=4) == []
    (batch,) = backlog.due(2.0, newest_first=False, limit=4)
    assert [w.note.id for w in batch] == [1, 2]
    assert backlog.due(9.0, newest_first=False, limit=4) == []  # taken
    backlog.done(session, 1)
    backlog.answered(batch)  # 2 was left out by the model: asked about again
    assert backlog.low_water(scanned=10) == 1
    assert [w.note.id for (w,) in [backlog.due(9.0, False, 4)[0]]] == [2]


def test_far_behind_the_newest_go_first_and_a_failure_waits() -> None:
    backlog, session = Backlog(batch=2, wait_s=2.0), uuid4()
    for n in range(1, 6):
        backlog.add(waiting(session, n))
    (batch,) = backlog.due(0.0, newest_first=True, limit=4)
    assert [w.note.id for w in batch] == [4, 5]
    assert backlog.failed(batch, retry_in_s=5.0, now=0.0) == 1
    assert backlog.due(4.0, newest_first=True, limit=4) == []
    assert [w.note.id for w in backlog.due(5.0, True, 4)[0]] == [4, 5]
    assert backlog.low_water(scanned=9) == 0


def test_backoff_doubles_with_jitter_honours_retry_after_and_is_capped() -> None:
    assert 0.5 <= backoff(1) <= 1.0 and 4.0 <= backoff(4) <= 8.0
    assert backoff(1, asked=30.0) == 30.0
    assert backoff(40) == MAX_BACKOFF_S


def test_api_settings_come_from_the_environment() -> None:
    default = ApiSettings.from_env({"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": ""})
    assert default.base_url == DEFAULT_BASE_URL and default.headers["x-api-key"] == "k"
    token = ApiSettings.from_env(
        {"ANTHROPIC_API_KEY": "", "ANTHROPIC_AUTH_TOKEN": "t", "ANTHROPIC_BASE_URL": "http://x/"}
    )
    assert token.base_url == "http://x" and token.headers["authorization"] == "Bearer t"
    assert not ApiSettings.from_env({"ANTHROPIC_API_KEY": "", "ANTHROPIC_AUTH_TOKEN": ""}).usable


def test_a_summary_is_cut_to_fifteen_words_and_a_line() -> None:
    assert short_summary(" ".join(f"w{i}" for i in range(30))) == " ".join(
        f"w{i}" for i in range(MAX_WORDS)
    )
    cut = short_summary("alice used Write: " + "x" * 500)
    assert len(cut) == MAX_CHARS and cut.endswith("…")
    assert short_summary("  \n ") == ""
