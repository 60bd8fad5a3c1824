"""A session's layer of permission rules: set whole, added one at a time,
checked through domain/permissions.py, folded by the Session aggregate and
read back from the store (in memory: no PostgreSQL)."""

from __future__ import annotations

import pytest

from domain.application import Podium
from domain.errors import SessionIsEnded
from domain.permissions import MalformedRule, Outcome, Permissions
from domain.session import PermissionRuleAdded, PermissionRulesSet, Session


def test_a_sessions_rules_are_events_the_aggregate_folds() -> None:
    app = Podium()
    session = app.start_session("rules", "/work")
    assert session.permissions == Permissions()
    session.set_permission_rules(
        {Outcome.ALLOW: ["Bash(npm test:*)"], Outcome.ASK: ["WebFetch", " WebFetch "]}
    )
    session.add_permission_rule(Outcome.ALLOW, "WebFetch")  # "always for this session"
    session.add_permission_rule(Outcome.DENY, "Bash(rm:*)")
    app.save(session)
    events: list[type] = [type(e) for e in app.events.get(session.id)]
    assert events[1:] == [PermissionRulesSet, PermissionRuleAdded, PermissionRuleAdded]
    read = app.get_session(session.id)
    assert read.permissions == Permissions(
        allow=("Bash(npm test:*)", "WebFetch"), deny=("Bash(rm:*)",)
    )
    read.set_permission_rules({})
    assert read.permissions == Permissions()


def test_a_malformed_rule_or_an_ended_session_records_nothing() -> None:
    session = Session.start("rules", "/work")
    with pytest.raises(MalformedRule):
        session.set_permission_rules({Outcome.ALLOW: ["Read", "Bash("]})
    with pytest.raises(MalformedRule):
        session.add_permission_rule(Outcome.ASK, "webfetch")
    assert session.permissions == Permissions()
    assert len(session.collect_events()) == 1  # SessionStarted alone
    session.end("done")
    with pytest.raises(SessionIsEnded):
        session.add_permission_rule(Outcome.ALLOW, "Read")
