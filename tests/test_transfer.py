"""Export and import of a session (transfer/, `podium export` / `podium import`,
GET /api/sessions/{id}/export): real PostgreSQL, a second database for the
target; the resumed agent runs on the real SDK and CLI against the model double."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import msgspec
import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from psycopg import sql

from domain.session import UserMessageSent
from domain.summarizer import Summaries, summaries_id
from eventlog.postgres import EVENTS_TABLE, open_podium
from eventlog.recorder import BinaryArray, BinaryArrayDumper
from gateway.cli import main
from gateway.system import System
from projections.runner import ProjectionRunner
from tests.conftest import _create_database, _drop_database
from tests.test_runtime import config, rows, say, start, until
from tests.workload import write_history
from transfer.export import export_session
from transfer.format import VERSION, TransferRefused
from transfer.importing import IMPORTED, SOURCE_TIME, append, import_bundle
from transfer.reading import read_bundle

READ_MODELS = ("sessions", "agents", "costs", "chat", "agent_logs", "file_changes", "approvals")
# Notification ids: the target's differ (agents.summary_of is its summarized event's).
NOT_COMPARED = ["notification_id", "summary_of"]


@pytest.fixture
def target_url(pg_admin: str, template_database: str) -> Iterator[str]:
    """A second database on the same server, migrated: where sessions are imported."""
    name = f"podium_x_{uuid.uuid4().hex[:12]}"
    yield _create_database(pg_admin, name, template=template_database)
    _drop_database(pg_admin, name)


def catch_up(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        ProjectionRunner(conninfo).catch_up(conn)


def read_models(conninfo: str, session_id: UUID) -> dict[str, list[tuple[Any, ...]]]:
    """The session's rows of every read model, without notification ids (NOT_COMPARED),
    sorted."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(conninfo) as conn:
        for table in READ_MODELS:
            columns = [
                row[0]
                for row in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "AND column_name <> ALL(%s) ORDER BY ordinal_position",
                    (table, NOT_COMPARED),
                )
            ]
            query = sql.SQL("SELECT {} FROM {} WHERE session_id = %s").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)
            )
            found[table] = sorted(conn.execute(query, (session_id,)).fetchall(), key=repr)
    return found


def stored(conninfo: str) -> list[tuple[Any, ...]]:
    """Every event of the log: stream, version, topic, state (what import must keep)."""
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
            "ORDER BY notification_id"
        ).fetchall()


def podium(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    code = main(["--database-url", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def errors(err: str) -> list[str]:
    """The error lines of a command's stderr (its progress bars aside)."""
    return [line for line in err.splitlines() if "error" in line]


def summarized_history(conninfo: str) -> tuple[UUID, list[int]]:
    """write_history's sessions, two events of the first one's agents summarized, the
    read models caught up: the session and the summarized events' notification ids."""
    app = open_podium(conninfo)
    try:
        write_history(app, sessions=2, agents=2, turns=2)
        with psycopg.connect(conninfo) as conn:
            session_id, agent_id = conn.execute(
                "SELECT session_id, stream_id FROM events WHERE event_type = 'AgentCreated' "
                "ORDER BY notification_id LIMIT 1"
            ).fetchone()  # type: ignore[misc]
            texts = [
                row[0]
                for row in conn.execute(
                    "SELECT notification_id FROM events WHERE stream_id = %s "
                    "AND event_type = 'AgentTextEmitted' ORDER BY notification_id LIMIT 2",
                    (agent_id,),
                )
            ]
        summaries = Summaries.open(session_id)
        for n, notification_id in enumerate(texts):
            summaries.summarize(notification_id, agent_id, f"summary number {n}")
        app.save(summaries)
    finally:
        app.close()
    catch_up(conninfo)
    return session_id, texts


def test_a_session_round_trips_once_and_conflicts_are_refused(
    database_url: str, target_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session_id, _ = summarized_history(database_url)
    file = tmp_path / "session.jsonl"
    code, _, err = podium(capsys, database_url, "export", str(session_id), "-o", str(file))
    assert code == 0, err
    nobody = uuid.uuid4()
    code, _, err = podium(capsys, database_url, "export", str(nobody), "-o", str(tmp_path / "x"))
    assert (code, err.strip()) == (1, f"podium export: error: no session with id {nobody}")
    assert not (tmp_path / "x").exists()
    lines = [json.loads(line) for line in file.read_bytes().splitlines()]
    assert lines[0]["format"] == "podium-session" and lines[0]["version"] == VERSION
    assert {line["kind"] for line in lines[1:]} == {"event"}  # no agent ran: no transcripts
    assert lines[0]["events"] == len(lines) - 1

    # Another session in the target first: ids there differ from the source's.
    other = open_podium(target_url)
    other.start_session("already here", "/work/other")
    other.close()
    code, out, err = podium(capsys, target_url, "import", str(file))
    assert code == 0, err
    assert out.startswith(f"imported session {session_id}")
    assert "import: writing [###" in err  # the progress bar (a line, off a terminal)
    catch_up(target_url)
    assert read_models(target_url, session_id) == read_models(database_url, session_id)

    # Streams, versions, topics and stored state kept (the summaries' aside).
    source_events = {e for e in stored(database_url) if e[0] != summaries_id(session_id)}
    target_events = set(stored(target_url))
    exported = {(UUID(line["stream_id"]), line["version"]) for line in lines[1:]}
    assert {e for e in source_events if e[:2] in exported and "system_log" not in e[2]} <= (
        target_events
    )
    with psycopg.connect(target_url) as conn:
        ai = conn.execute(
            "SELECT ai_summary FROM agent_logs WHERE session_id = %s AND ai_summary IS NOT NULL "
            "ORDER BY notification_id",
            (session_id,),
        ).fetchall()
        (logged,) = conn.execute(
            "SELECT payload FROM events WHERE event_type = 'SystemLogged' AND session_id = %s",
            (session_id,),
        ).fetchall()
    assert ai == [("summary number 0",), ("summary number 1",)]  # remapped to the target's ids
    assert logged[0]["message"] == "session 0 done" and logged[0]["context"]["n"] == "0"
    assert IMPORTED in logged[0]["context"] and SOURCE_TIME in logged[0]["context"]

    # Again: nothing added, the system log entry not made twice.
    before = stored(target_url)
    code, out, _ = podium(capsys, target_url, "import", str(file))
    assert (code, out.strip()) == (0, f"session {session_id} is already here: nothing added")
    assert stored(target_url) == before

    # A file whose events disagree with what is there: refused, one line, nothing written.
    changed = file.read_text().replace("working on task 0", "working on task zero", 1)
    (tmp_path / "changed.jsonl").write_text(changed)
    code, _, err = podium(capsys, target_url, "import", str(tmp_path / "changed.jsonl"))
    (line,) = errors(err)
    assert code == 1 and "is here with other events" in line
    assert stored(target_url) == before


def test_stored_state_travels_byte_for_byte(
    database_url: str, target_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An older podium's NUL escape stays an escape; a state that is not JSON (the read
    models skip it, as a fault) travels as base64; either way the same bytes arrive."""
    app = open_podium(database_url)
    session = app.start_session("odd states", "/work/odd")
    app.close()
    topic = get_topic(UserMessageSent)
    old = b'{"timestamp":"2026-01-01T00:00:00Z","payload":{"v":1,"text":"a\\u0000b \xc3\xa9"}}'
    broken = b"\xff not json\n"
    with psycopg.connect(database_url) as conn:
        conn.adapters.register_dumper(BinaryArray, BinaryArrayDumper)
        append(
            conn,
            [StoredEvent(session.id, 2, topic, old), StoredEvent(session.id, 3, topic, broken)],
        )
        conn.commit()
        lines = list(export_session(conn, session.id))
    assert b'"text":"a\\u0000b' in lines[2] and b'"state_base64"' in lines[3]
    import_bundle(target_url, read_bundle(lines))
    with psycopg.connect(target_url) as conn:
        states = conn.execute(
            f"SELECT state FROM {EVENTS_TABLE} WHERE originator_id = %s "
            "ORDER BY originator_version",
            (session.id,),
        ).fetchall()
    assert [bytes(row[0]) for row in states][1:] == [old, broken]
    catch_up(database_url)
    catch_up(target_url)
    assert read_models(target_url, session.id) == read_models(database_url, session.id)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda lines: [lines[0].replace(b'"version":1', b'"version":9'), *lines[1:]], "version 9"),
        (lambda lines: [*lines[:3], b'{"kind": "event", "stream_id": 1}\n', *lines[3:]], "line 4"),
        (lambda lines: [*lines[:5], b"{not json\n", *lines[6:]], "line 6"),
        (lambda lines: lines[:-2], "cut off"),
        (lambda lines: [b"hello\n", *lines[1:]], "not a podium export"),
        (
            lambda lines: [
                line.replace(b"domain.agent:AgentTextEmitted", b"domain.agent:Nope")
                for line in lines
            ],
            "Nope",
        ),
    ],
)
def test_a_bad_file_is_refused_with_one_line_and_nothing_written(
    database_url: str,
    target_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Any,
    said: str,
) -> None:
    session_id, _ = summarized_history(database_url)
    with psycopg.connect(database_url) as conn:
        lines = list(export_session(conn, session_id))
    file = tmp_path / "bad.jsonl"
    file.write_bytes(b"".join(damage(lines)))
    before = stored(target_url)
    code, _, err = podium(capsys, target_url, "import", str(file))
    (line,) = errors(err)
    assert code == 1 and said in line and "Traceback" not in err, err
    assert stored(target_url) == before


def test_a_summary_of_an_event_the_file_lacks_is_refused(database_url: str) -> None:
    session_id, _ = summarized_history(database_url)
    with psycopg.connect(database_url) as conn:
        lines = list(export_session(conn, session_id))

    def damaged(line: bytes) -> bytes:
        value = msgspec.json.decode(line)
        if not value.get("topic", "").endswith(":EventSummarized"):
            return line
        value["state"]["payload"]["notification_id"] = 10**9  # no event of the file's
        return msgspec.json.encode(value) + b"\n"

    with pytest.raises(TransferRefused, match=f"event #{10**9}, which the file does not hold"):
        read_bundle([damaged(line) for line in lines])


@pytest.mark.anyio
async def test_a_resumed_agent_on_the_target_remembers_its_conversation(
    database_url: str, target_url: str, tmp_path: Path
) -> None:
    async with System(config(database_url, tmp_path, "source")) as source:
        session_id = await start(source)
        await say(source, session_id, "Create an agent called alice")
        await say(source, session_id, "Tell alice to create a simple hello world app")
        await until(source, "SELECT count(*) FROM agents WHERE name = 'alice' AND turns = 1")

    with psycopg.connect(database_url) as conn:
        lines = list(export_session(conn, session_id))

    def export_and_import() -> tuple[str, str]:
        kinds = {msgspec.json.decode(line)["kind"] for line in lines}
        assert {"transcript", "entry"} <= kinds  # the orchestrator's and alice's
        first = import_bundle(target_url, read_bundle(lines)).line()
        catch_up(database_url)
        catch_up(target_url)
        assert read_models(target_url, session_id) == read_models(database_url, session_id)
        return first, import_bundle(target_url, read_bundle(lines)).line()

    first, again = await asyncio.to_thread(export_and_import)
    assert first.startswith("imported") and again.endswith("nothing added")

    # The same workspace, another database and an empty HOME: only the import remembers.
    async with System(config(target_url, tmp_path, "target")) as target:
        await say(target, session_id, "Tell alice to create a simple hello world app")
        await until(target, "SELECT count(*) FROM agents WHERE name = 'alice' AND turns = 2")
        worker = [
            r.body
            for r in target.double.message_requests
            if any(t.get("name") == "Write" for t in r.body.get("tools", []))
        ]
        assert worker, "alice never reached the model"
        assert json.dumps(worker[0]["messages"]).count("create a simple hello world app") >= 2
        sessions = await rows(
            target,
            "SELECT DISTINCT payload->>'claude_session_id' FROM events "
            "WHERE event_type = 'TurnCompleted' AND stream_type = 'agent'",
        )
    assert len(sessions) == 1  # alice's Claude session, resumed
    # The session went on on the target: the file is behind it, not in conflict with it.
    again = await asyncio.to_thread(lambda: import_bundle(target_url, read_bundle(lines)).line())
    assert again.endswith("nothing added")


def test_the_api_exports_a_session(client: httpx.Client) -> None:
    created = client.post("/api/sessions", json={"title": "to move"}).json()
    answer = client.get(f"/api/sessions/{created['session_id']}/export")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    header, *events = [json.loads(line) for line in answer.text.splitlines()]
    assert header["session_id"] == created["session_id"] and header["events"] == len(events)
    assert events[0]["topic"].endswith(":SessionStarted")
    assert events[0]["state"]["payload"]["title"] == "to move"
    missing = client.get(f"/api/sessions/{uuid.uuid4()}/export")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


@pytest.mark.anyio
async def test_imported_commands_are_history_not_orders(
    database_url: str, target_url: str, tmp_path: Path
) -> None:
    """A podium that ran on the target before the import runs none of the file's
    commands (its history's messages and agents' tasks) after it."""
    session_id, _ = await asyncio.to_thread(summarized_history, database_url)
    with psycopg.connect(database_url) as conn:
        lines = list(export_session(conn, session_id))
    target_config = config(target_url, tmp_path, "target")
    async with System(target_config):  # the target's runtime has a position now
        pass
    await asyncio.to_thread(lambda: import_bundle(target_url, read_bundle(lines)))
    async with System(target_config) as target:
        await asyncio.sleep(3)  # what a runtime that took the commands up would do by now
        assert target.double is not None and target.double.message_requests == []
