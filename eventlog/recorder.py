"""The event store's recorder: eventsourcing's, with an insert in one round trip.

eventsourcing's ``PostgresApplicationRecorder`` inserts a list of composite
``stored_event`` values: psycopg adapts it to text in pure Python and the
server parses it back, and each insert checks a connection out of the pool
and runs a pipelined transaction of seven statements (BEGIN, SET LOCAL,
LOCK TABLE, NOTIFY, INSERT, sync, COMMIT). Group commit makes one insert per
group of writers, on the committer thread, so all of that is on the path
every writer waits on, and holds the GIL the writers need.

``PodiumRecorder`` keeps eventsourcing's table, reads and subscriptions, and
replaces only the insert: the events go as four binary arrays (ids,
versions, topics, states) to one plpgsql function that takes the table's
EXCLUSIVE lock, notifies the channel and inserts, in a single statement in
autocommit, on a connection the recorder owns. The statement is its own
transaction, so the lock is held until it commits, exactly as in
eventsourcing's transaction: notification ids commit in the order they were
issued, and readers never pass over a gap that fills in later.

Failures behave as with eventsourcing's recorder: psycopg's errors become
eventsourcing's (a duplicate version is an ``IntegrityError``), and an insert
that fails for want of a connection is retried on a new one. If the
connection was lost after the insert was sent, the insert may have committed:
the retry first looks for the events, so a caller never gets an
``IntegrityError`` for its own events.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import sql
from psycopg.adapt import Dumper
from psycopg.pq import Format, TransactionStatus

from eventlog.pool_checks import sweep_dead_connections

# eventsourcing retries an insert that failed for want of a connection (or
# for a lock timeout) ten times, 0.2 s apart; so does this recorder.
INSERT_ATTEMPTS = 10
RETRY_WAIT = 0.2

# How psycopg's errors become eventsourcing's, most specific first: the same
# mapping as eventsourcing's ``PostgresDatastore.get_connection()``, so callers
# (``Podium.create_agent`` and the group committer rely on IntegrityError)
# cannot tell which insert path raised.
ERROR_CLASSES: tuple[tuple[type[psycopg.Error], type[PersistenceError]], ...] = (
    (psycopg.InterfaceError, InterfaceError),
    (psycopg.OperationalError, OperationalError),
    (psycopg.DataError, DataError),
    (psycopg.IntegrityError, IntegrityError),
    (psycopg.InternalError, InternalError),
    (psycopg.ProgrammingError, ProgrammingError),
    (psycopg.NotSupportedError, NotSupportedError),
    (psycopg.DatabaseError, DatabaseError),
)


# Serialises create_table() across processes, per events table.
CREATE_TABLE_LOCK = "SELECT pg_advisory_lock(hashtext('podium create_table'), hashtext(%s))"
CREATE_TABLE_UNLOCK = "SELECT pg_advisory_unlock(hashtext('podium create_table'), hashtext(%s))"


def persistence_error(error: psycopg.Error) -> PersistenceError:
    """eventsourcing's exception for a psycopg error (raise it ``from error``)."""
    for psycopg_class, eventsourcing_class in ERROR_CLASSES:
        if isinstance(error, psycopg_class):
            return eventsourcing_class(str(error))
    return PersistenceError(str(error))


class BinaryArray:
    """A one-dimensional PostgreSQL array, already in binary wire format."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


class BinaryArrayDumper(Dumper):
    """Sends a BinaryArray as it is; the statement casts it to its array type."""

    format = Format.BINARY
    oid = 0  # "unknown": the server takes the type from the cast in the statement

    def dump(self, obj: Any) -> bytes:
        assert isinstance(obj, BinaryArray)
        return obj.data


# The binary array format (PostgreSQL's array_recv): dimensions, a has-nulls
# flag, the element type's oid, each dimension's length and lower bound, then
# every element as a 4-byte length and its bytes.
#
# Why not let psycopg adapt the lists: it dumps them element by element in
# Python (~1.3 µs an event for these four arrays), on the committer thread,
# while holding the GIL the writers need. These list comprehensions over
# precompiled structs do the same in under half the time.
_ARRAY_HEADER = struct.Struct("!iiIii")
_LENGTH = struct.Struct("!i")
_LENGTH_AND_INT8 = struct.Struct("!iq")
_UUID_LENGTH = _LENGTH.pack(16)
_OIDS = {"bytea": 17, "int8": 20, "text": 25, "uuid": 2950}


def _array(element_type: str, elements: list[bytes]) -> BinaryArray:
    """The array of already-encoded elements (each with its length prefix)."""
    header = _ARRAY_HEADER.pack(1, 0, _OIDS[element_type], len(elements), 1)
    return BinaryArray(b"".join([header, *elements]))


@cache
def _text_element(text: str) -> bytes:
    # Topics: a few dozen distinct strings, each encoded once per process.
    encoded = text.encode()
    return _LENGTH.pack(len(encoded)) + encoded


def uuid_array(values: list[UUID | str]) -> BinaryArray:
    return _array(
        "uuid",
        [_UUID_LENGTH + (v if isinstance(v, UUID) else UUID(v)).bytes for v in values],
    )


def int8_array(values: list[int]) -> BinaryArray:
    return _array("int8", [_LENGTH_AND_INT8.pack(8, value) for value in values])


def text_array(values: list[str]) -> BinaryArray:
    return _array("text", [_text_element(value) for value in values])


def bytea_array(values: list[bytes]) -> BinaryArray:
    return _array("bytea", [_LENGTH.pack(len(value)) + value for value in values])


class PodiumRecorder(PostgresApplicationRecorder):
    """An application recorder whose insert is one call of a database function.

    Everything but ``insert_events`` is eventsourcing's. The function is
    created (``CREATE OR REPLACE``) with the table, by ``create_table()``.
    Inserts are serialised on the recorder's own connection, which is
    replaced when it breaks.
    """

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        sweep_dead_connections(datastore.pool)  # loads get over a PostgreSQL restart at once
        self.append_function_name = f"{events_table_name}_append"
        self.check_identifier_length(self.append_function_name)
        schema = sql.Identifier(datastore.schema)
        table = sql.Identifier(events_table_name)
        function = sql.Identifier(self.append_function_name)
        self.sql_create_statements.append(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}("
                "originator_ids {originator_id_type}[], originator_versions bigint[], "
                "topics text[], states bytea[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql "
                # Scoped to the call, like eventsourcing's SET LOCAL before its LOCK.
                "SET lock_timeout = {lock_timeout} "
                "AS $BODY$ "
                "BEGIN "
                # Held until the calling statement's transaction commits: see
                # eventsourcing's PostgresApplicationRecorder._lock_table().
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                # Rows are inserted, given ids and returned in the arrays' order.
                "RETURN QUERY INSERT INTO {schema}.{table} "
                "(originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(originator_ids, originator_versions, topics, states) "
                "RETURNING notification_id; "
                "END; "
                "$BODY$"
            ).format(
                schema=schema,
                function=function,
                table=table,
                originator_id_type=sql.Identifier(datastore.originator_id_type),
                lock_timeout=sql.Literal(f"{datastore.lock_timeout}s"),
                channel=sql.Identifier(self.channel_name),
            )
        )
        # Each parameter is a BinaryArray of unknown type: the casts type them.
        # Rendered to bytes once: psycopg would compose the SQL on every call,
        # and caches the parsing of a plain query.
        self.append_statement = (
            sql.SQL(
                "SELECT * FROM {schema}.{function}("
                "%b::{originator_id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
            )
            .format(
                schema=schema,
                function=function,
                originator_id_type=sql.Identifier(datastore.originator_id_type),
            )
            .as_bytes()
        )
        # Finds events a lost connection may have committed (see _committed_ids).
        self.select_committed_statement = (
            sql.SQL(
                "SELECT e.notification_id, e.topic, e.state "
                "FROM unnest(%b::{originator_id_type}[], %b::bigint[]) WITH ORDINALITY "
                "AS k (originator_id, originator_version, position) "
                "JOIN {schema}.{table} AS e USING (originator_id, originator_version) "
                "ORDER BY k.position"
            )
            .format(
                schema=schema,
                table=table,
                originator_id_type=sql.Identifier(datastore.originator_id_type),
            )
            .as_bytes()
        )
        self._insert_lock = threading.Lock()
        self._connection: psycopg.Connection[tuple[Any, ...]] | None = None
        self._closed = False

    def create_table(self) -> None:
        """eventsourcing's tables, type and functions, and the insert function.

        Every ``open_podium()`` runs this DDL, and concurrent runs collide: creating
        the composite type twice raises a unique violation, replacing the same
        function twice "tuple concurrently updated". So processes take turns,
        under an advisory lock held on a connection of its own (the DDL takes
        connections from the pool, which may have only one).
        """
        key = f"{self.datastore.schema}.{self.events_table_name}"
        with self._connect() as conn:
            conn.execute(CREATE_TABLE_LOCK, (key,))
            try:
                super().create_table()
            finally:
                conn.execute(CREATE_TABLE_UNLOCK, (key,))

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        """Insert the events in one transaction; their notification ids, in order.

        A duplicate (originator_id, originator_version) raises eventsourcing's
        IntegrityError and inserts none of the events.
        """
        if not stored_events:
            return []
        arrays = (
            self._originator_id_array(stored_events),
            int8_array([e.originator_version for e in stored_events]),
            text_array([e.topic for e in stored_events]),
            bytea_array([e.state for e in stored_events]),
        )
        with self._insert_lock:
            return self._append(arrays, stored_events)

    def _originator_id_array(self, stored_events: Sequence[StoredEvent]) -> BinaryArray:
        if self.datastore.originator_id_type == "uuid":
            return uuid_array([e.originator_id for e in stored_events])
        return text_array([str(e.originator_id) for e in stored_events])

    def close(self) -> None:
        """Close the recorder's connection; later inserts raise InterfaceError."""
        with self._insert_lock:
            self._closed = True
            self._discard_connection()

    def _append(
        self, arrays: tuple[BinaryArray, ...], stored_events: Sequence[StoredEvent]
    ) -> list[int]:
        if self._closed:  # not worth retrying
            raise InterfaceError("the recorder is closed")
        in_doubt = False  # a lost connection may have committed the events
        for attempt in range(1, INSERT_ATTEMPTS + 1):
            sent = False
            try:
                conn = self._connected()
                if in_doubt:
                    ids = self._committed_ids(conn, arrays, stored_events)
                    if ids is not None:
                        return ids
                sent = True
                cursor = conn.cursor(binary=True)
                cursor.execute(self.append_statement, arrays, prepare=True)
                return [row[0] for row in cursor.fetchall()]
            except psycopg.Error as error:
                lost = self._discard_connection_if_unusable()
                in_doubt = in_doubt or (sent and lost)
                translated = persistence_error(error)
                if attempt == INSERT_ATTEMPTS or not isinstance(
                    translated, InterfaceError | OperationalError
                ):
                    raise translated from error
            except BaseException:
                self._discard_connection_if_unusable()
                raise
            time.sleep(RETRY_WAIT)
        raise AssertionError("unreachable")  # pragma: no cover

    def _committed_ids(
        self,
        conn: psycopg.Connection[tuple[Any, ...]],
        arrays: tuple[BinaryArray, ...],
        stored_events: Sequence[StoredEvent],
    ) -> list[int] | None:
        """The events' ids if an earlier attempt committed them, else None.

        The connection was lost after the insert was sent, so it may or may not
        have committed. All of the events are there, byte for byte, or none of
        them from that attempt; anything else is someone else's events, and
        inserting again raises the IntegrityError it deserves.
        """
        rows = conn.execute(self.select_committed_statement, arrays[:2], binary=True).fetchall()
        if len(rows) != len(stored_events):
            return None
        for (_, topic, state), event in zip(rows, stored_events, strict=True):
            if topic != event.topic or bytes(state) != event.state:
                return None
        return [row[0] for row in rows]

    def _connected(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        """A connection like the pool's (same server, user, password), in autocommit."""
        pool = self.datastore.pool
        # psycopg_pool allows either to be a function (eventsourcing passes values).
        conninfo = pool.conninfo() if callable(pool.conninfo) else pool.conninfo
        kwargs = dict((pool.kwargs() if callable(pool.kwargs) else pool.kwargs) or {})
        kwargs.pop("row_factory", None)  # rows are tuples here
        get_password: Callable[[], str] | None = getattr(pool, "get_password_func", None)
        if get_password is not None:
            kwargs["password"] = get_password()
        conn = psycopg.connect(
            conninfo,
            autocommit=True,
            connect_timeout=max(1, round(pool.timeout)),
            application_name=f"{self.events_table_name} recorder",
            **kwargs,
        )
        conn.adapters.register_dumper(BinaryArray, BinaryArrayDumper)
        return conn

    def _discard_connection_if_unusable(self) -> bool:
        """Drop the connection if it broke or was left mid-transaction; True if dropped."""
        conn = self._connection
        if conn is None:
            return False
        if conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
            self._discard_connection()
            return True
        return False

    def _discard_connection(self) -> None:
        conn, self._connection = self._connection, None
        if conn is not None:
            conn.close()
