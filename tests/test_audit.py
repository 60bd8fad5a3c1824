"""Audit queries against real PostgreSQL: named queries, ad-hoc SQL, refusals, output."""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from domain.events import Usage
from eventlog.postgres import open_podium
from gateway import cli
from gateway.audit import (
    AuditError,
    AuditRefused,
    QueryResult,
    list_queries,
    parse_params,
    parse_query,
    run_named,
    run_sql,
)
from gateway.output import format_table, print_result
from projections.audit_role import LOG_RELATIONS
from projections.read_models import NAMES
from projections.rebuild import rebuild

NAMED_QUERIES = {
    "tool-uses",
    "file-changes",
    "cost-by-model-day",
    "session-events",
    "failed-turns",
    "approvals",
}


@dataclass(frozen=True)
class AuditLog:
    """What the `log` fixture recorded, for the tests to query."""

    url: str
    session: UUID  # Alice and bob work here
    other_session: UUID  # another alice works here
    boundary: datetime  # everything bob does, and what follows it, is after this


def pause() -> None:
    """Keep events on either side of a boundary apart in time."""
    time.sleep(0.02)


@pytest.fixture
def log(database_url: str) -> AuditLog:
    """A small history written through the real domain.

    Before the boundary: Alice (session 1) uses Write (ok) and Bash (no result
    yet), creates x.py and completes a turn; alice (session 2) uses Read,
    edits notes.md and completes a turn. After it: bob (session 1) uses Read
    (error), modifies src/y.py, ends a turn in an error and is interrupted;
    Alice fails; the orchestrator of session 1 ends a turn in an error and is
    interrupted; the system log names session 1.
    """
    app = open_podium(database_url)
    try:
        one = app.start_session("one", "/tmp")
        app.create_agent(one.id, "Alice")
        app.command_agent(one.id, "alice", "do it")
        alice = app.find_agent(one.id, "alice")
        alice.start_turn()  # the worker starts the waiting command's turn
        alice.request_tool_use("t1", "Write", {"file_path": "x.py"})
        alice.complete_tool_use("t1", "Write", "written")
        alice.request_tool_use("t2", "Bash", {"command": "ls"})
        alice.record_file_change("x.py", "created", "+x", tool="Edit", tool_use_id="toolu_1")
        alice.complete_turn(
            Usage(input_tokens=10, output_tokens=5),
            cost_usd=0.01,
            duration_ms=100,
            num_turns=1,
            claude_session_id="cs-alice",
        )
        app.save(alice)

        two = app.start_session("two", "/tmp")
        app.create_agent(two.id, "alice")
        app.command_agent(two.id, "alice", "take notes")
        other = app.find_agent(two.id, "alice")
        other.start_turn()  # the worker starts the waiting command's turn
        other.request_tool_use("o1", "Read", {"file_path": "notes.md"})
        other.complete_tool_use("o1", "Read", "notes")
        other.record_file_change(
            "notes.md", "modified", "-a\n+b", tool="Edit", tool_use_id="toolu_1"
        )
        other.complete_turn(
            Usage(input_tokens=1, output_tokens=1),
            cost_usd=0.005,
            duration_ms=10,
            num_turns=1,
            claude_session_id="cs-other",
        )
        app.save(other)

        pause()
        boundary = datetime.now(UTC)
        pause()

        app.create_agent(one.id, "bob")
        app.command_agent(one.id, "bob", "fix it")
        bob = app.find_agent(one.id, "bob")
        bob.start_turn()  # the worker starts the waiting command's turn
        bob.request_tool_use("b1", "Read", {"file_path": "missing.py"})
        bob.complete_tool_use("b1", "Read", "no such file", is_error=True)
        bob.record_file_change("src/y.py", "modified", "-y\n+z", tool="Edit", tool_use_id="toolu_1")
        usage = Usage(
            input_tokens=20,
            output_tokens=7,
            cache_creation_input_tokens=1,
            cache_read_input_tokens=2,
        )
        bob.complete_turn(
            usage,
            cost_usd=0.02,
            duration_ms=200,
            num_turns=2,
            claude_session_id="cs-bob",
            is_error=True,
        )
        bob.interrupt("user stop")
        app.save(bob)

        alice = app.find_agent(one.id, "alice")
        alice.fail("boom")
        app.save(alice)

        session = app.get_session(one.id)
        session.complete_turn(
            Usage(input_tokens=3, output_tokens=2),
            cost_usd=0.05,
            duration_ms=50,
            num_turns=1,
            claude_session_id="cs-orch",
            model="claude-opus-4",
            is_error=True,
        )
        session.interrupt("user pressed stop")
        app.save(session)
        app.write_system_log("info", "hello", session_id=one.id)
    finally:
        app.close()
    return AuditLog(database_url, one.id, two.id, boundary)


def records(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def column(result: QueryResult, name: str) -> list[Any]:
    return [record[name] for record in records(result)]


# --- the catalogue ------------------------------------------------------------


def test_every_named_query_is_listed_with_its_documentation() -> None:
    queries = list_queries()
    names = [query.name for query in queries]
    assert names == sorted(names)
    assert set(names) >= NAMED_QUERIES
    for query in queries:
        assert query.description, query.name
        assert query.params, query.name
        for param in query.params:
            assert param.description, f"{query.name} --{param.name}"
    by_name = {query.name: query for query in queries}
    session_events = {param.name: param for param in by_name["session-events"].params}
    assert session_events["session"].required
    assert session_events["session"].type == "uuid"
    assert not session_events["since"].required
    assert session_events["since"].type == "timestamptz"
    tool_uses = {param.name: param for param in by_name["tool-uses"].params}
    assert tool_uses["agent"].description == "agent name (case-insensitive)"


def test_a_query_header_is_parsed() -> None:
    query = parse_query(
        "q",
        "-- First line\n-- and second.\n--\n"
        "-- param who: text, required — whose rows\n"
        "-- param n: int, optional\n"
        "SELECT %(who)s::text, %(n)s::int",
    )
    assert query.description == "First line and second."
    assert [(p.name, p.type, p.required, p.description) for p in query.params] == [
        ("who", "text", True, "whose rows"),
        ("n", "int", False, ""),
    ]


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("SELECT 1", "must describe the query"),
        ("-- Rows.\n-- param x: colour, optional\nSELECT %(x)s", "unknown type 'colour'"),
        ("-- Rows.\n-- param x text\nSELECT %(x)s", "cannot read"),
        ("-- Rows.\n-- param x: text, optional\nSELECT 1", "differ from the placeholders"),
        ("-- Rows.\nSELECT %(x)s::text", "differ from the placeholders"),
        ("-- Rows.\n-- param x: text, optional\n-- More.\nSELECT %(x)s", "after a param line"),
    ],
)
def test_a_malformed_query_header_is_refused(text: str, complaint: str) -> None:
    with pytest.raises(AuditError, match=complaint):
        parse_query("q", text)


# --- parameters ---------------------------------------------------------------


def test_params_are_parsed_from_flags() -> None:
    argv = ["--agent", "alice", "--since=2026-11-01", "--until", "2026-11-02T10:00:00Z"]
    assert parse_params(argv) == {
        "agent": "alice",
        "since": "2026-11-01",
        "until": "2026-11-02T10:00:00Z",
    }
    assert parse_params([]) == {}
    assert parse_params(["--path=a=b"]) == {"path": "a=b"}


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--agent"], "--agent needs a value"),
        (["--agent", "--since", "2026-11-01"], "--agent needs a value"),
        (["alice"], "unexpected 'alice'"),
        (["--agent", "alice", "bob"], "unexpected 'bob'"),
        (["--agent", "a", "--agent=b"], "--agent is given twice"),
        (["--"], "unexpected '--'"),
    ],
)
def test_malformed_params_are_refused(argv: list[str], complaint: str) -> None:
    with pytest.raises(AuditError, match=complaint):
        parse_params(argv)


def test_an_unknown_query_lists_the_available_ones(database_url: str) -> None:
    with pytest.raises(AuditError) as caught:
        run_named(database_url, "tool-use", {})
    message = str(caught.value)
    assert "unknown audit query 'tool-use'" in message
    assert "did you mean tool-uses?" in message
    for name in NAMED_QUERIES:
        assert name in message


def test_an_unknown_param_lists_the_query_params(database_url: str) -> None:
    with pytest.raises(AuditError) as caught:
        run_named(database_url, "tool-uses", {"agnet": "alice"})
    assert str(caught.value) == (
        "tool-uses has no parameter --agnet; "
        "it accepts --agent, --tool, --session, --since, --until"
    )


def test_a_missing_required_param_is_named(database_url: str) -> None:
    with pytest.raises(AuditError, match=r"session-events needs --session UUID \(session id\)"):
        run_named(database_url, "session-events", {})


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"since": "yesterday"}, "--since expects a date or time, e.g. 2026-11-01"),
        ({"until": "2026-13-01"}, "--until expects a date or time"),
        ({"session": "not-a-uuid"}, "--session expects a UUID"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(
    database_url: str, params: dict[str, str], complaint: str
) -> None:
    with pytest.raises(AuditError, match=complaint):
        run_named(database_url, "failed-turns", params)


# --- named queries ------------------------------------------------------------


def test_tool_uses_newest_first_with_outcomes(log: AuditLog) -> None:
    result = run_named(log.url, "tool-uses", {})
    assert result.columns[:6] == ("at", "agent", "task", "tool", "input", "outcome")
    uses = [(r["agent"], r["tool_use_id"], r["tool"], r["outcome"]) for r in records(result)]
    assert uses == [
        ("bob", "b1", "Read", "error"),
        ("alice", "o1", "Read", "ok"),
        ("Alice", "t2", "Bash", "pending"),
        ("Alice", "t1", "Write", "ok"),
    ]
    first = records(result)[-1]
    assert first["input"] == {"file_path": "x.py"}
    assert first["task"] == "do-it"
    assert first["session_id"] == log.session


def test_tool_uses_filter_by_agent_case_insensitively_session_tool_and_time(
    log: AuditLog,
) -> None:
    def ids(**params: str) -> list[str]:
        return column(run_named(log.url, "tool-uses", params), "tool_use_id")

    assert ids(agent="ALICE") == ["o1", "t2", "t1"]
    assert ids(agent="alice", session=str(log.session)) == ["t2", "t1"]
    assert ids(tool="read") == ["b1", "o1"]
    assert ids(since=log.boundary.isoformat()) == ["b1"]
    assert ids(until=log.boundary.isoformat()) == ["o1", "t2", "t1"]
    assert ids(agent="bob", until=log.boundary.isoformat()) == []
    assert ids(agent="nobody") == []


def test_a_timestamp_without_a_zone_is_utc_and_a_date_is_midnight(log: AuditLog) -> None:
    naive = log.boundary.replace(tzinfo=None).isoformat()
    assert column(run_named(log.url, "tool-uses", {"since": naive}), "tool_use_id") == ["b1"]
    today = log.boundary.date().isoformat()
    assert len(run_named(log.url, "tool-uses", {"since": today}).rows) == 4
    assert run_named(log.url, "tool-uses", {"until": today}).rows == []


def test_file_changes_with_diffs(log: AuditLog) -> None:
    result = run_named(log.url, "file-changes", {})
    changes = [(r["agent"], r["change"], r["path"], r["diff"]) for r in records(result)]
    assert changes == [
        ("bob", "modified", "src/y.py", "-y\n+z"),
        ("alice", "modified", "notes.md", "-a\n+b"),
        ("Alice", "created", "x.py", "+x"),
    ]
    assert column(run_named(log.url, "file-changes", {"agent": "BOB"}), "path") == ["src/y.py"]
    assert column(run_named(log.url, "file-changes", {"path": "src/"}), "agent") == ["bob"]
    only_one = {"session": str(log.session), "until": log.boundary.isoformat()}
    assert column(run_named(log.url, "file-changes", only_one), "path") == ["x.py"]


def test_cost_by_model_day_sums_orchestrator_and_agents(log: AuditLog) -> None:
    result = run_named(log.url, "cost-by-model-day", {"session": str(log.session)})
    assert result.columns == (
        "day",
        "model",
        "actor",
        "turns",
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "cost_usd",
    )
    rows = records(result)
    assert [(r["model"], r["actor"]) for r in rows] == [
        ("claude-opus-4", "orchestrator"),
        ("claude-sonnet-4-5", "agents"),
    ]
    orchestrator, agents = rows
    assert isinstance(orchestrator["day"], date)
    assert orchestrator["day"] in {log.boundary.date(), datetime.now(UTC).date()}
    assert (orchestrator["turns"], orchestrator["input_tokens"], orchestrator["output_tokens"]) == (
        1,
        3,
        2,
    )
    assert orchestrator["cost_usd"] == Decimal("0.05")
    assert agents["turns"] == 2  # Alice's and bob's
    assert (agents["input_tokens"], agents["output_tokens"]) == (30, 12)
    assert (agents["cache_creation_input_tokens"], agents["cache_read_input_tokens"]) == (1, 2)
    assert agents["cost_usd"] == Decimal("0.03")


def test_cost_by_model_day_for_one_agent_or_everything(log: AuditLog) -> None:
    bob = records(run_named(log.url, "cost-by-model-day", {"agent": "BOB"}))
    assert [(r["actor"], r["turns"], r["cost_usd"]) for r in bob] == [
        ("agent:bob", 1, Decimal("0.02"))
    ]
    everything = records(run_named(log.url, "cost-by-model-day", {}))
    assert [(r["actor"], r["turns"], r["cost_usd"]) for r in everything] == [
        ("orchestrator", 1, Decimal("0.05")),
        ("agents", 3, Decimal("0.035")),
    ]
    later = records(run_named(log.url, "cost-by-model-day", {"since": log.boundary.isoformat()}))
    assert [(r["actor"], r["turns"]) for r in later] == [("orchestrator", 1), ("agents", 1)]


def test_session_events_are_the_session_s_whole_story_in_order(log: AuditLog) -> None:
    result = run_named(log.url, "session-events", {"session": str(log.session)})
    assert result.columns == ("notification_id", "at", "stream", "event_type", "payload")
    rows = records(result)
    ids = [r["notification_id"] for r in rows]
    assert ids == sorted(ids)
    assert rows[0]["event_type"] == "SessionStarted"
    assert rows[-1]["event_type"] == "SystemLogged"
    assert rows[-1]["payload"]["message"] == "hello"
    assert {r["stream"] for r in rows} == {"session", "agent:Alice", "agent:bob", "system_log"}
    assert "notes.md" not in json.dumps([r["payload"] for r in rows])  # the other session's

    window = {"session": str(log.session), "since": log.boundary.isoformat()}
    later = records(run_named(log.url, "session-events", window))
    assert (later[0]["stream"], later[0]["event_type"]) == ("agent:bob", "AgentCreated")
    assert "agent:Alice" in {r["stream"] for r in later}  # her failure
    window = {"session": str(log.session), "until": log.boundary.isoformat()}
    earlier = records(run_named(log.url, "session-events", window))
    assert {r["stream"] for r in earlier} == {"session", "agent:Alice"}
    assert len(earlier) + len(later) == len(rows)


def test_failed_turns_of_agents_and_the_orchestrator(log: AuditLog) -> None:
    result = run_named(log.url, "failed-turns", {"session": str(log.session)})
    failures = [(r["actor"], r["outcome"], r["task"], r["detail"]) for r in records(result)]
    assert failures == [
        ("orchestrator", "interrupted", None, "user pressed stop"),
        ("orchestrator", "error", None, "turn ended in an error (claude session cs-orch)"),
        ("agent:Alice", "failed", "do-it", "boom"),
        ("agent:bob", "interrupted", "fix-it", "user stop"),
        ("agent:bob", "error", "fix-it", "turn ended in an error (claude session cs-bob)"),
    ]
    assert column(run_named(log.url, "failed-turns", {"agent": "alice"}), "outcome") == ["failed"]
    assert run_named(log.url, "failed-turns", {"session": str(log.other_session)}).rows == []
    assert run_named(log.url, "failed-turns", {"until": log.boundary.isoformat()}).rows == []


# --- ad-hoc SQL ---------------------------------------------------------------


def test_run_sql_returns_columns_and_rows(log: AuditLog) -> None:
    result = run_sql(
        log.url,
        "SELECT event_type, count(*) AS n FROM events "
        "WHERE stream_type = 'session' GROUP BY event_type ORDER BY event_type",
    )
    assert result.columns == ("event_type", "n")
    assert result.rows == [
        ("SessionInterrupted", 1),
        ("SessionStarted", 2),
        ("TurnCompleted", 1),
    ]


def test_run_sql_leaves_percent_signs_alone(database_url: str) -> None:
    result = run_sql(database_url, "SELECT 'a%b' LIKE '%b' AS matched, '%(x)s' AS text;")
    assert result.rows == [(True, "%(x)s")]


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("SELECT nope FROM events", 'SQL error: column "nope" does not exist'),
        ("SELEC 1", 'SQL error: syntax error at or near "SELEC"'),
        ("SELECT * FROM nowhere", 'SQL error: relation "nowhere" does not exist'),
        ("   ", "no SQL given"),
    ],
)
def test_sql_errors_are_one_line(database_url: str, text: str, complaint: str) -> None:
    with pytest.raises(AuditError) as caught:
        run_sql(database_url, text)
    assert str(caught.value).startswith(complaint)
    assert "\n" not in str(caught.value)


def snapshot(url: str) -> tuple[Any, ...]:
    """Everything a smuggled write could change."""
    with psycopg.connect(url) as conn:
        events = conn.execute(
            "SELECT count(*), max(notification_id), md5(string_agg(state::text, '' "
            "ORDER BY notification_id)) FROM podium_events"
        ).fetchone()
        logs = conn.execute("SELECT count(*) FROM system_logs").fetchone()
        tables = conn.execute(
            "SELECT array_agg(tablename::text ORDER BY tablename) FROM pg_tables "
            "WHERE schemaname = 'public'"
        ).fetchone()
    return events, logs, tables


@pytest.mark.parametrize(
    "text",
    [
        "INSERT INTO system_logs (notification_id, at, level, message, context) "
        "VALUES (1, now(), 'info', 'forged', '{}')",
        "DELETE FROM podium_events",
        "UPDATE podium_events SET topic = 'x'",
        "DROP TABLE podium_events",
        "CREATE TABLE smuggled (x int)",
        "WITH gone AS (DELETE FROM podium_events RETURNING 1) SELECT count(*) FROM gone",
        "COMMIT; DELETE FROM podium_events",
        "ROLLBACK; DELETE FROM podium_events",
        "SELECT 1; DELETE FROM podium_events",
        "SET TRANSACTION READ WRITE; DELETE FROM podium_events",
        "SET TRANSACTION READ WRITE",
        "DO $$ BEGIN COMMIT; DELETE FROM podium_events; END $$",
        "SELECT nextval('podium_events_notification_id_seq')",
    ],
)
def test_a_write_is_refused_and_changes_nothing(log: AuditLog, text: str) -> None:
    before = snapshot(log.url)
    with pytest.raises(AuditRefused) as caught:
        run_sql(log.url, text)
    assert str(caught.value).startswith("refused: ")
    assert snapshot(log.url) == before


def test_the_read_only_message_names_the_refused_command(database_url: str) -> None:
    with pytest.raises(AuditRefused) as caught:
        run_sql(database_url, "DELETE FROM podium_events")
    assert str(caught.value) == (
        "refused: audit queries run read-only (cannot execute DELETE in a read-only transaction)"
    )


def test_a_commit_alone_ends_nothing_that_matters(log: AuditLog) -> None:
    before = snapshot(log.url)
    assert run_sql(log.url, "COMMIT") == QueryResult(columns=(), rows=[])
    assert run_sql(log.url, "SET default_transaction_read_only = off").rows == []
    assert snapshot(log.url) == before


def test_a_slow_query_is_cancelled(database_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(AuditRefused) as caught:
        run_sql(database_url, "SELECT pg_sleep(5)", timeout_s=0.5)
    assert str(caught.value) == "query cancelled after 0.5 s (statement timeout)"
    assert time.monotonic() - started < 4


def test_a_timeout_must_be_positive(database_url: str) -> None:
    with pytest.raises(AuditError, match="positive number of seconds"):
        run_sql(database_url, "SELECT 1", timeout_s=0)


# --- output -------------------------------------------------------------------

SAMPLE = QueryResult(
    columns=("id", "at", "who", "cost", "payload", "note"),
    rows=[
        (
            1,
            datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
            UUID("767b997c-079b-43aa-a0fe-b39f206dc718"),
            Decimal("0.035"),
            {"v": 1, "ok": True},
            "line one\nline two",
        ),
        (22, None, None, Decimal("12"), None, "x" * 100),
    ],
)


def render(result: QueryResult, fmt: Any) -> str:
    out = io.StringIO()
    print_result(result, fmt, out)
    return out.getvalue()


def test_table_output_is_aligned_truncated_and_counted() -> None:
    lines = render(SAMPLE, "table").splitlines()
    assert lines[0].split() == ["id", "at", "who", "cost", "payload", "note"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split("  ")[0] == " 1"  # numbers align right
    assert "2026-11-01 09:30:00+00:00" in lines[2]
    assert '{"v":1,"ok":true}' in lines[2]
    assert "line one\\nline two" in lines[2]
    assert lines[3].endswith("x" * 59 + "…")
    assert lines[-1] == "(2 rows)"
    # Text starts under its header; numbers end under theirs.
    assert lines[2].index("767b997c") == lines[0].index("who")
    assert lines[2].index("0.035") + len("0.035") == lines[0].index("cost") + len("cost")


def test_table_output_of_nothing() -> None:
    assert format_table(("a", "b"), []) == "a  b\n-  -\n(0 rows)"
    assert format_table((), []) == "(0 rows)"
    assert format_table(("n",), [(1,)]).endswith("(1 row)")


def test_json_output_is_an_array_of_objects() -> None:
    objects = json.loads(render(SAMPLE, "json"))
    assert objects[0] == {
        "id": 1,
        "at": "2026-11-01T09:30:00Z",
        "who": "767b997c-079b-43aa-a0fe-b39f206dc718",
        "cost": 0.035,
        "payload": {"v": 1, "ok": True},
        "note": "line one\nline two",
    }
    assert objects[1]["at"] is None
    assert objects[1]["note"] == "x" * 100
    assert json.loads(render(QueryResult(("a", "a"), [(1, 2)]), "json")) == [{"a": 1, "a_2": 2}]
    assert json.loads(render(QueryResult(("a",), []), "json")) == []


def test_csv_output_has_a_header_and_whole_values() -> None:
    rows = list(csv.reader(io.StringIO(render(SAMPLE, "csv"))))
    assert rows[0] == list(SAMPLE.columns)
    assert rows[1] == [
        "1",
        "2026-11-01 09:30:00+00:00",
        "767b997c-079b-43aa-a0fe-b39f206dc718",
        "0.035",
        '{"v":1,"ok":true}',
        "line one\nline two",
    ]
    assert rows[2] == ["22", "", "", "12", "", "x" * 100]


def test_a_real_result_renders_in_every_format(log: AuditLog) -> None:
    result = run_named(log.url, "session-events", {"session": str(log.session)})
    assert render(result, "table").endswith(f"({len(result.rows)} rows)\n")
    assert len(json.loads(render(result, "json"))) == len(result.rows)
    assert len(list(csv.reader(io.StringIO(render(result, "csv"))))) == len(result.rows) + 1


# --- the command line ---------------------------------------------------------


def test_podium_audit_runs_a_named_query(log: AuditLog, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--database-url", log.url, "audit", "tool-uses", "--agent", "BOB", "--json"]
    assert cli.main(argv) == 0
    (use,) = json.loads(capsys.readouterr().out)
    assert (use["agent"], use["tool"], use["outcome"]) == ("bob", "Read", "error")


def test_podium_audit_lists_queries(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--database-url", database_url, "audit", "--list"]) == 0
    out = capsys.readouterr().out
    assert "session-events --session UUID [--since TIMESTAMPTZ] [--until TIMESTAMPTZ]" in out
    for query in list_queries():
        assert query.description in out


def test_podium_audit_refuses_a_write(log: AuditLog, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(log.url)
    argv = ["--database-url", log.url, "audit", "--sql", "COMMIT; DELETE FROM podium_events"]
    assert cli.main(argv) == 1
    assert "refused: audit queries run one statement at a time" in capsys.readouterr().err
    assert snapshot(log.url) == before


# --- what audit SQL may touch: the log and the read models, nothing else --------


def refusal(url: str, text: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``text`` with `podium audit --sql`; the one line it printed on refusing."""
    assert cli.main(["--database-url", url, "audit", "--sql", text]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    return line


def test_a_shell_command_cannot_run(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    witness = tmp_path / "ran"
    line = refusal(database_url, f"COPY (SELECT 1) TO PROGRAM 'id > {witness}'", capsys)
    assert "refused" in line
    assert "COPY to or from an external program" in line
    assert not witness.exists()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("SELECT pg_read_file('/etc/passwd')", "permission denied for function pg_read_file"),
        ("SELECT pg_ls_dir('.')", "permission denied for function pg_ls_dir"),
        ("SELECT * FROM pg_authid", "permission denied for table pg_authid"),
        ("COPY (SELECT 1) TO '/tmp/podium-audit-copy'", "COPY to a file"),
        ("SET ROLE postgres", 'permission denied to set role "postgres"'),
        ("SELECT set_config('role', 'postgres', true)", "permission denied to set role"),
        ("SET SESSION AUTHORIZATION postgres", "permission denied to set session authorization"),
        (
            "DO $$ BEGIN RESET ROLE; PERFORM pg_read_file('/etc/passwd'); END $$",
            "permission denied for function pg_read_file",
        ),
        (
            "SELECT query_to_xml('SELECT pg_read_file(''/etc/passwd'')', true, false, '')",
            "permission denied for function pg_read_file",
        ),
        # Agents' conversations are Claude's transcripts, not the log: audit
        # reads the log and the read models only.
        ("SELECT * FROM claude_transcript_entries", "permission denied for table"),
        ("SELECT * FROM claude_transcripts", "permission denied for table"),
        ("SELECT * FROM idempotency_keys", "permission denied for table"),
    ],
)
def test_superuser_powers_are_refused(
    database_url: str, text: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refusal(database_url, text, capsys)
    assert line.startswith("podium audit: error: refused: ")
    assert complaint in line


def test_another_session_cannot_be_terminated(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(database_url, autocommit=True) as bystander:
        pid = bystander.info.backend_pid
        line = refusal(database_url, f"SELECT pg_terminate_backend({pid})", capsys)
        assert line.startswith("podium audit: error: refused: ")
        assert "terminate" in line
        assert bystander.execute("SELECT 1").fetchone() == (1,)


def test_ending_its_own_session_is_one_line(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refusal(database_url, "SELECT pg_terminate_backend(pg_backend_pid())", capsys)
    assert "terminating connection" in line


def test_audit_sql_runs_as_the_audit_role(log: AuditLog) -> None:
    result = run_sql(
        log.url,
        "SELECT current_user, session_user, r.rolsuper, r.rolcreaterole, r.rolcreatedb, "
        "(SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid) AS memberships "
        "FROM pg_roles r WHERE r.rolname = current_user",
    )
    assert result.rows == [("podium_audit", "podium_audit", False, False, False, 0)]


def test_the_log_and_every_read_model_are_readable(log: AuditLog) -> None:
    for relation in (*LOG_RELATIONS, *NAMES):
        assert len(run_sql(log.url, f"SELECT count(*) FROM {relation}").rows) == 1


def test_a_refusal_is_not_a_usage_error(database_url: str) -> None:
    with pytest.raises(AuditRefused):
        run_sql(database_url, "DELETE FROM podium_events")
    assert not issubclass(AuditRefused, AuditError)


def test_rebuilt_read_models_stay_readable(log: AuditLog) -> None:
    rebuild(log.url)
    for name in NAMES:
        assert len(run_sql(log.url, f"SELECT count(*) FROM {name}").rows) == 1
    assert run_named(log.url, "failed-turns", {}).rows
