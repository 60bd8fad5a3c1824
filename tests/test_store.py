"""The event store's recorder (eventlog.recorder) and the group committer's lifecycle."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from eventsourcing.persistence import DataError, IntegrityError, InterfaceError, StoredEvent

from eventlog.group_commit import GroupCommitRecorder, RecorderClosedError
from eventlog.postgres import EVENTS_TABLE, open_podium
from eventlog.recorder import PodiumRecorder, bytea_array, int8_array, text_array, uuid_array
from projections.schema import migrate

APPEND_FUNCTION = f"{EVENTS_TABLE}_append"


@pytest.fixture
def recorder(app) -> PodiumRecorder:
    group = app.recorder
    assert isinstance(group, GroupCommitRecorder)
    assert isinstance(group.recorder, PodiumRecorder)
    return group.recorder


def events(originator_id: uuid.UUID, versions: range, topic: str = "tests:Happened"):
    return [
        StoredEvent(originator_id, v, topic, f'{{"n": {v}, "id": "{originator_id}"}}'.encode())
        for v in versions
    ]


def recorder_backend(database_url: str) -> int | None:
    """The pid of the recorder's own connection, if it has one."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (f"{EVENTS_TABLE} recorder",),
        ).fetchone()
    return None if row is None else row[0]


def test_events_round_trip(recorder):
    one, two = uuid.uuid4(), uuid.uuid4()
    written = events(one, range(1, 4)) + events(two, range(1, 3))
    ids = recorder.insert_events(written)
    assert recorder.select_events(one) == written[:3]
    assert recorder.select_events(two) == written[3:]
    notifications = recorder.select_notifications(ids[0], limit=10)
    assert [n.id for n in notifications] == list(ids)
    assert [(n.originator_id, n.originator_version, n.topic, n.state) for n in notifications] == [
        (e.originator_id, e.originator_version, e.topic, e.state) for e in written
    ]
    assert recorder.max_notification_id() == ids[-1]


def test_ids_follow_the_order_of_the_events_passed_in(recorder):
    one, two = uuid.uuid4(), uuid.uuid4()
    # Interleaved streams, versions not sorted: ids follow the argument's order.
    written = [*events(two, range(5, 6)), *events(one, range(1, 3)), *events(two, range(1, 5))]
    ids = recorder.insert_events(written)
    assert list(ids) == sorted(ids) and len(set(ids)) == len(written)
    by_id = {n.id: n for n in recorder.select_notifications(ids[0], limit=100)}
    assert [(by_id[i].originator_id, by_id[i].originator_version) for i in ids] == [
        (e.originator_id, e.originator_version) for e in written
    ]
    later = recorder.insert_events(events(one, range(3, 4)))
    assert later[0] > ids[-1]


def test_a_duplicate_version_raises_integrity_error_and_stores_none_of_the_call(recorder):
    one, two = uuid.uuid4(), uuid.uuid4()
    recorder.insert_events(events(one, range(1, 3)))
    with pytest.raises(IntegrityError):
        recorder.insert_events(events(two, range(1, 4)) + events(one, range(2, 3)))
    assert recorder.select_events(two) == []
    assert len(recorder.select_events(one)) == 2
    # The connection is still good for the next insert.
    assert len(recorder.insert_events(events(two, range(1, 2)))) == 1


def test_other_database_errors_map_to_eventsourcing_errors(recorder):
    with pytest.raises(DataError):  # PostgreSQL text cannot hold NUL
        recorder.insert_events(events(uuid.uuid4(), range(1, 2), topic="bad\x00topic"))
    assert len(recorder.insert_events(events(uuid.uuid4(), range(1, 2)))) == 1


def test_each_insert_notifies_the_channel(recorder, database_url):
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {recorder.channel_name}")
        recorder.insert_events(events(uuid.uuid4(), range(1, 3)))
        received = list(listener.notifies(timeout=5, stop_after=1))
    assert [n.channel for n in received] == [EVENTS_TABLE]


def test_an_insert_waits_for_the_tables_exclusive_lock(recorder, database_url):
    """Inserts serialise on the table lock, so ids commit in the order issued."""
    done = threading.Event()
    with psycopg.connect(database_url) as blocker:
        blocker.execute(f"LOCK TABLE {EVENTS_TABLE} IN EXCLUSIVE MODE")
        writer = threading.Thread(
            target=lambda: (recorder.insert_events(events(uuid.uuid4(), range(1, 2))), done.set())
        )
        writer.start()
        # Autocommit: pg_stat_activity is a snapshot taken once per transaction.
        with psycopg.connect(database_url, autocommit=True) as observer:
            for _ in range(500):
                waiting = observer.execute(
                    "SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                    "WHERE NOT l.granted AND l.relation = %s::regclass "
                    "AND a.application_name = %s AND a.datname = current_database()",
                    (EVENTS_TABLE, f"{EVENTS_TABLE} recorder"),
                ).fetchall()
                if waiting:
                    break
                time.sleep(0.01)
        assert waiting == [("ExclusiveLock",)]
        assert not done.is_set()
        blocker.rollback()
    writer.join(10)
    assert done.is_set()


def test_a_broken_connection_is_replaced_on_the_next_insert(recorder, database_url):
    recorder.insert_events(events(uuid.uuid4(), range(1, 2)))
    pid = recorder_backend(database_url)
    assert pid is not None
    with psycopg.connect(database_url) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
    stream = uuid.uuid4()
    ids = recorder.insert_events(events(stream, range(1, 3)))
    assert len(ids) == 2
    assert len(recorder.select_events(stream)) == 2
    assert recorder_backend(database_url) not in (None, pid)


def test_a_connection_lost_mid_insert_is_retried_once_stored(recorder, database_url):
    """The server kills the recorder's connection while its insert waits for the lock."""
    stream = uuid.uuid4()
    recorder.insert_events(events(uuid.uuid4(), range(1, 2)))  # connects
    pid = recorder_backend(database_url)
    result: list[object] = []
    with psycopg.connect(database_url) as blocker:
        blocker.execute(f"LOCK TABLE {EVENTS_TABLE} IN EXCLUSIVE MODE")
        writer = threading.Thread(
            target=lambda: result.append(recorder.insert_events(events(stream, range(1, 4))))
        )
        writer.start()
        time.sleep(0.3)  # the insert is now waiting for the lock
        with psycopg.connect(database_url) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        time.sleep(0.5)  # the recorder reconnects and waits for the lock again
        blocker.rollback()
    writer.join(10)
    assert not writer.is_alive()
    assert len(result) == 1 and len(result[0]) == 3  # type: ignore[arg-type]
    assert len(recorder.select_events(stream)) == 3


def test_events_committed_before_a_connection_was_lost_are_recognised(recorder):
    """After a lost connection the recorder first looks for the events it sent."""
    stream = uuid.uuid4()
    written = events(stream, range(1, 4))
    ids = recorder.insert_events(written)
    arrays = (
        uuid_array([e.originator_id for e in written]),
        int8_array([e.originator_version for e in written]),
        text_array([e.topic for e in written]),
        bytea_array([e.state for e in written]),
    )
    conn = recorder._connected()
    assert recorder._committed_ids(conn, arrays, written) == list(ids)
    # Someone else's events at those versions, or none: not ours, insert again.
    others = [StoredEvent(e.originator_id, e.originator_version, e.topic, b"{}") for e in written]
    assert recorder._committed_ids(conn, arrays, others) is None
    fresh = events(uuid.uuid4(), range(1, 3))
    fresh_arrays = (
        uuid_array([e.originator_id for e in fresh]),
        int8_array([e.originator_version for e in fresh]),
        *arrays[2:],
    )
    assert recorder._committed_ids(conn, fresh_arrays, fresh) is None


def test_a_closed_recorder_refuses_inserts(database_url):
    app = open_podium(database_url)
    group = app.recorder
    assert isinstance(group, GroupCommitRecorder)
    inner = group.recorder
    app.close()
    with pytest.raises(RecorderClosedError):
        group.insert_events(events(uuid.uuid4(), range(1, 2)))
    with pytest.raises(InterfaceError):
        inner.insert_events(events(uuid.uuid4(), range(1, 2)))
    assert recorder_backend(database_url) is None


def _function_exists(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_proc WHERE proname = %s", (APPEND_FUNCTION,)
        ).fetchone() == (1,)


def test_constructing_podium_creates_the_insert_function(empty_database_url):
    assert not _function_exists(empty_database_url)
    open_podium(empty_database_url).close()
    assert _function_exists(empty_database_url)
    open_podium(empty_database_url).close()  # idempotent
    assert _function_exists(empty_database_url)


def test_migrate_creates_the_insert_function(empty_database_url):
    migrate(empty_database_url)
    assert _function_exists(empty_database_url)


def test_concurrent_construction_creates_the_schema_once(empty_database_url):
    errors: list[Exception] = []

    def construct() -> None:
        try:
            open_podium(empty_database_url, pool_size=1).close()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=construct) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _function_exists(empty_database_url)


# --- the group committer's lifecycle ------------------------------------------------


def test_closing_answers_every_caller_racing_with_it(database_url):
    """A save that races with close() is committed or refused, never left waiting."""
    for _ in range(5):
        app = open_podium(database_url)
        group = app.recorder
        assert isinstance(group, GroupCommitRecorder)
        outcomes: list[str] = []
        start = threading.Barrier(9)

        def insert(
            group: GroupCommitRecorder = group,
            outcomes: list[str] = outcomes,
            start: threading.Barrier = start,
        ) -> None:
            start.wait()
            for _ in range(50):
                try:
                    group.insert_events(events(uuid.uuid4(), range(1, 3)))
                    outcomes.append("saved")
                except RecorderClosedError:
                    outcomes.append("refused")
                    return

        threads = [threading.Thread(target=insert) for _ in range(8)]
        for t in threads:
            t.start()
        start.wait()
        time.sleep(0.01)
        app.close()
        for t in threads:
            t.join(10)
        assert not any(t.is_alive() for t in threads), "a caller hangs after close()"
        assert set(outcomes) <= {"saved", "refused"}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_committer_that_dies_fails_its_callers(app):
    group = app.recorder
    assert isinstance(group, GroupCommitRecorder)

    def bug(group_of_callers):
        raise RuntimeError("a bug in the committer")

    group._commit = bug  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="a bug"):
        group.insert_events(events(uuid.uuid4(), range(1, 2)))
    group._thread.join(5)
    assert not group._thread.is_alive()
    with pytest.raises(RecorderClosedError):
        group.insert_events(events(uuid.uuid4(), range(1, 2)))
