"""Approval requests and their one decision, and the agent's status while it
waits; on the in-memory store (no PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest

from domain.application import Podium
from domain.approval import Approval, ApprovalStatus, Scope, approval_id
from domain.errors import AlreadyDecided, ApprovalNotFound
from domain.statuses import BUSY, AgentStatus, AgentStep, next_status

S = AgentStatus
AGENT_ID = uuid.uuid4()


def _request(tool_use_id: str = "toolu_1") -> Approval:
    return Approval.request(
        agent_id=AGENT_ID,
        session_id=uuid.uuid4(),
        agent="alice",
        task="write-the-report",
        tool="Write",
        tool_use_id=tool_use_id,
        tool_input={"file_path": "report.md", "content": "hi"},
    )


@pytest.mark.parametrize(
    ("current", "step", "waiting", "after"),
    [
        (S.WORKING, AgentStep.ASKED, False, S.AWAITING_APPROVAL),
        (S.AWAITING_APPROVAL, AgentStep.ANSWERED, False, S.WORKING),
        (S.INTERRUPTED, AgentStep.ANSWERED, False, S.INTERRUPTED),  # it says why it stopped
        (S.AWAITING_APPROVAL, AgentStep.COMMANDED, True, S.AWAITING_APPROVAL),  # it waits behind
        (S.AWAITING_APPROVAL, AgentStep.TURN_ENDED, True, S.QUEUED),
        (S.AWAITING_APPROVAL, AgentStep.INTERRUPTED, False, S.INTERRUPTED),
    ],
)
def test_waiting_for_a_decision_is_part_of_the_turn(
    current: AgentStatus, step: AgentStep, waiting: bool, after: AgentStatus
) -> None:
    assert next_status(current, step, waiting) is after
    assert S.AWAITING_APPROVAL in BUSY  # it can be interrupted, and commands wait behind it


def test_a_request_has_a_stable_id_and_one_decision() -> None:
    approval = _request()
    assert approval.id == approval_id(AGENT_ID, "toolu_1") != approval_id(AGENT_ID, "toolu_2")
    assert approval.status is ApprovalStatus.PENDING and not approval.is_decided
    approval.grant("agent", "user")
    assert approval.status is ApprovalStatus.GRANTED and approval.scope is Scope.AGENT
    for decide in (
        lambda: approval.grant("once", "user"),
        lambda: approval.deny("no", "user"),
        lambda: approval.expire("too late"),
    ):
        with pytest.raises(AlreadyDecided, match="granted already"):
            decide()


def test_a_grant_takes_a_known_scope_only() -> None:
    with pytest.raises(ValueError, match="'forever'"):
        _request().grant("forever", "user")


def test_the_service_records_requests_once_and_the_first_decision_stands() -> None:
    app = Podium()
    approval = app.request_approval(_request())
    again = app.request_approval(_request())  # the same tool use: the same request
    assert again.id == approval.id and again.version == 1
    denied = app.decide_approval(approval.id, False, "once", "not that file", "user")
    assert denied.status is ApprovalStatus.DENIED and denied.message == "not that file"
    with pytest.raises(AlreadyDecided):
        app.decide_approval(approval.id, True, "once", "", "user")
    with pytest.raises(AlreadyDecided):
        app.expire_approval(approval.id, "nobody decided")
    with pytest.raises(ApprovalNotFound):
        app.get_approval(uuid.uuid4())
    with pytest.raises(ApprovalNotFound):  # a stream, but not a request
        app.get_approval(app.start_session("x").id)


def test_the_loser_of_two_decisions_at_once_decides_again_and_is_refused() -> None:
    app = Podium()
    approval = app.request_approval(_request())
    before = app.get_approval(approval.id)  # what the loser loaded before the winner saved
    app.decide_approval(approval.id, True, "once", "", "first")
    loads = iter([before, app.get_approval(approval.id)])  # its save conflicts: fresh state
    with pytest.raises(AlreadyDecided, match="granted already"):
        app.decide(lambda: next(loads), lambda a: a.deny("late", "second"))
    assert app.get_approval(approval.id).status is ApprovalStatus.GRANTED
