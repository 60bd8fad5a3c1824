"""Audit queries: named, documented SQL over the event log, and ad-hoc SQL.

A named query is a file in ``sql/audit/``; its name is the file name. The
file starts with a comment block: what the query shows, then one line per
parameter::

    -- Tool uses by agent: every tool call an agent requested, newest first.
    -- param agent: text, optional — agent name (case-insensitive)
    SELECT ... WHERE (%(agent)s::text IS NULL OR ...)

Parameters are psycopg named placeholders with an explicit cast, so an
omitted optional parameter is NULL. Values are checked here, before any SQL
runs, so a typo gets a message about the typo rather than a SQL error.

Every query, named or ad hoc, runs read-only: in its own READ ONLY
transaction with a statement timeout, as exactly one statement, and the
transaction is always rolled back.

And every query runs as the role ``podium_audit`` (``podium migrate`` creates
it), which may SELECT the event table, the ``events`` view and the read
models, and nothing else: not Claude's transcripts, not the idempotency keys,
no superuser function (``COPY ... TO PROGRAM``, ``pg_read_file``,
``pg_ls_dir``), no signalling of other sessions. Audit *logs in* as that role
rather than ``SET ROLE`` to it: when podium connects as a superuser (the
embedded server's ``postgres``), a statement could otherwise switch back —
``SET ROLE``, ``set_config('role', ...)`` inside a query, a ``DO`` block — and
use every power the session began with. Logged in as ``podium_audit``, there
is nothing to switch back to. Before each query the role's own attributes are
checked too, so a ``podium_audit`` someone made superuser is refused, not used.

What that asks of the server: ``podium_audit`` must be able to log in with
the same host, port and database as podium. The embedded server trusts local
connections; so does a default development PostgreSQL. Elsewhere, give it a
password (``ALTER ROLE podium_audit PASSWORD '...'``) and put it in
``~/.pgpass`` (libpq reads it), or allow it in ``pg_hba.conf``. If podium
connects as a user who may not create roles, ``podium migrate`` cannot create
it: a superuser runs ``podium migrate`` once. Until then audit refuses, in
one line that says this, rather than run with the connecting user's powers.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo

import sql as sql_files
from projections.audit_role import AUDIT_ROLE

AUDIT_FOLDER = "audit"

_PARAM_LINE = re.compile(
    r"param\s+(?P<name>[a-z][a-z0-9_]*)\s*:\s*(?P<type>\w+)\s*,\s*"
    r"(?P<presence>required|optional)\s*(?:[\u2014\u2013-]+\s*(?P<description>.*))?"
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_READ_ONLY_STATE_CLASSES = ("25", "2D")
_INSUFFICIENT_PRIVILEGE = "42501"
# True when the audit role can do more than read what it was granted.
_MORE_THAN_READING = """
SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls
    OR EXISTS (SELECT FROM pg_auth_members WHERE member = r.oid)
FROM pg_roles AS r WHERE rolname = current_user
"""


class AuditError(Exception):
    """An audit request podium cannot run; the message says what to change."""


class AuditRefused(Exception):
    """The database refused, stopped or lost an audit query; the message says why.

    Not an AuditError: that one means the request itself was wrong (a usage
    error, exit 2); this one means podium would not or could not run it (exit 1).
    """


@dataclass(frozen=True)
class AuditParam:
    """One parameter of a named query, as its header declares it."""

    name: str
    type: str  # one of PARAM_TYPES
    required: bool
    description: str


@dataclass(frozen=True)
class AuditQuery:
    """A named audit query: its documentation, its parameters and its SQL."""

    name: str
    description: str
    params: tuple[AuditParam, ...]
    text: str


@dataclass(frozen=True)
class QueryResult:
    """The columns and rows a query returned."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


# --- parameter types ----------------------------------------------------------


def _parse_timestamp(text: str) -> datetime:
    """A date or a date and time; without a time zone it is UTC, like the log."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _ParamType:
    parse: Callable[[str], object]
    expected: str  # what a valid value looks like, for error messages


PARAM_TYPES: Mapping[str, _ParamType] = {
    "text": _ParamType(str, "text"),
    "int": _ParamType(int, "a whole number, e.g. 10"),
    "uuid": _ParamType(UUID, "a UUID, e.g. 767b997c-079b-43aa-a0fe-b39f206dc718"),
    "timestamptz": _ParamType(
        _parse_timestamp, "a date or time, e.g. 2026-11-01 or 2026-11-01T09:30:00Z (UTC if no zone)"
    ),
}


# --- the catalogue ------------------------------------------------------------


def parse_query(name: str, text: str) -> AuditQuery:
    """Read a query's documentation and parameters from its header comments.

    The header must describe the query and declare exactly the placeholders
    its SQL uses, so ``--list`` never lies about a query.
    """
    description: list[str] = []
    params: list[AuditParam] = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        comment = line.removeprefix("--").strip()
        if not comment:
            continue
        if not comment.startswith("param "):
            if params:
                raise AuditError(f"audit query {name}: description after a param line: {line!r}")
            description.append(comment)
            continue
        match = _PARAM_LINE.fullmatch(comment)
        if match is None:
            raise AuditError(
                f"audit query {name}: cannot read {line!r}; "
                "expected '-- param NAME: TYPE, required|optional — description'"
            )
        if match["type"] not in PARAM_TYPES:
            raise AuditError(
                f"audit query {name}: parameter {match['name']} has unknown type "
                f"{match['type']!r}; use one of {', '.join(PARAM_TYPES)}"
            )
        params.append(
            AuditParam(
                name=match["name"],
                type=match["type"],
                required=match["presence"] == "required",
                description=(match["description"] or "").strip(),
            )
        )
    summary = " ".join(part for part in description if part)
    if not summary:
        raise AuditError(f"audit query {name}: the header comment must describe the query")
    declared = {param.name for param in params}
    used = set(_PLACEHOLDER.findall(text))
    if declared != used:
        raise AuditError(
            f"audit query {name}: declared parameters {sorted(declared)} "
            f"differ from the placeholders used {sorted(used)}"
        )
    return AuditQuery(name=name, description=summary, params=tuple(params), text=text)


def list_queries() -> list[AuditQuery]:
    """Every named audit query, sorted by name."""
    queries = [
        parse_query(entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in sql_files.folder(AUDIT_FOLDER).iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(queries, key=lambda query: query.name)


def get_query(name: str) -> AuditQuery:
    """The named query, or an AuditError listing the names there are."""
    queries = {query.name: query for query in list_queries()}
    if name in queries:
        return queries[name]
    close = difflib.get_close_matches(name, queries, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise AuditError(f"unknown audit query {name!r}; {hint}available: {', '.join(sorted(queries))}")


# --- parameters ---------------------------------------------------------------


def parse_params(argv: list[str]) -> dict[str, str]:
    """Turn ``--name value`` and ``--name=value`` arguments into a dict."""
    params: dict[str, str] = {}
    position = 0
    while position < len(argv):
        arg = argv[position]
        position += 1
        if not arg.startswith("--") or arg in ("--", "--="):
            raise AuditError(f"unexpected {arg!r}: give query parameters as --NAME VALUE")
        name, equals, value = arg[2:].partition("=")
        if not equals:
            if position == len(argv) or argv[position].startswith("--"):
                raise AuditError(f"--{name} needs a value")
            value = argv[position]
            position += 1
        if name in params:
            raise AuditError(f"--{name} is given twice")
        params[name] = value
    return params


def bind_params(query: AuditQuery, given: Mapping[str, str]) -> dict[str, object]:
    """Check the given values against the query's parameters and convert them.

    Every declared parameter gets a value; an omitted optional one is None,
    which the query's SQL reads as "no filter".
    """
    declared = {param.name: param for param in query.params}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        accepted = ", ".join(f"--{name}" for name in declared) or "no parameters"
        raise AuditError(f"{query.name} has no parameter --{unknown[0]}; it accepts {accepted}")
    values: dict[str, object] = {}
    for param in query.params:
        text = given.get(param.name)
        if text is None:
            if param.required:
                raise AuditError(
                    f"{query.name} needs --{param.name} {param.type.upper()}"
                    + (f" ({param.description})" if param.description else "")
                )
            values[param.name] = None
            continue
        param_type = PARAM_TYPES[param.type]
        try:
            values[param.name] = param_type.parse(text)
        except ValueError:
            raise AuditError(
                f"--{param.name} expects {param_type.expected}; got {text!r}"
            ) from None
    return values


# --- running ------------------------------------------------------------------


def run_named(
    conninfo: str, name: str, params: dict[str, str], timeout_s: float = 30.0
) -> QueryResult:
    """Run the named audit query with the given parameter values (as text)."""
    query = get_query(name)
    return _run_read_only(conninfo, query.text, bind_params(query, params), timeout_s)


def run_sql(conninfo: str, text: str, timeout_s: float = 30.0) -> QueryResult:
    """Run one ad-hoc SQL statement, read-only."""
    if not text.strip():
        raise AuditError("no SQL given")
    return _run_read_only(conninfo, text, None, timeout_s)


def _run_read_only(
    conninfo: str, text: str, params: Mapping[str, object] | None, timeout_s: float
) -> QueryResult:
    """Run one statement in a READ ONLY transaction that is always rolled back."""
    if not timeout_s > 0:
        raise AuditError(f"the timeout must be a positive number of seconds, got {timeout_s}")
    timeout_ms = max(1, round(timeout_s * 1000))
    with _connect_as_audit_role(conninfo) as conn, conn.cursor() as cur:
        try:
            with conn.transaction(force_rollback=True):
                cur.execute("SET TRANSACTION READ ONLY")
                _check_role(cur)
                # A SELECT rather than SET LOCAL: it takes the transaction's first
                # snapshot, after which PostgreSQL refuses SET TRANSACTION READ WRITE.
                cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(timeout_ms),))
                # prepare=True sends the text with the extended protocol, which takes
                # exactly one statement: "COMMIT; DELETE ..." is refused whole, so
                # nothing can end the read-only transaction and run after it.
                cur.execute(text, params, prepare=True)
                if cur.description is None:
                    return QueryResult(columns=(), rows=[])
                columns = tuple(column.name for column in cur.description)
                return QueryResult(columns=columns, rows=cur.fetchall())
        except psycopg.Error as error:
            raise _audit_error(error, timeout_s) from None


def _connect_as_audit_role(conninfo: str) -> psycopg.Connection[tuple[Any, ...]]:
    """A connection logged in as the audit role, to podium's server and database."""
    params = conninfo_to_dict(conninfo)
    params.pop("password", None)  # the connecting user's; the role has its own, if any
    params.update(user=AUDIT_ROLE, application_name="podium audit")
    try:
        return psycopg.connect(make_conninfo("", **params), autocommit=True)
    except psycopg.OperationalError as error:
        raise AuditRefused(
            f"cannot log in as {AUDIT_ROLE}, the role audit SQL runs as "
            f"({_one_line(error)}); a superuser's `podium migrate` creates it, and where "
            f"pg_hba.conf does not trust it, ALTER ROLE {AUDIT_ROLE} PASSWORD '...' and "
            "~/.pgpass let it log in"
        ) from None


def _check_role(cur: psycopg.Cursor[tuple[Any, ...]]) -> None:
    """Refuse to run as an audit role that someone gave more than reading."""
    row = cur.execute(_MORE_THAN_READING).fetchone()
    if row is None or row[0]:
        raise AuditRefused(
            f"refused: the role {AUDIT_ROLE} has more privileges than reading the log "
            "(a role attribute or a role membership); remove them before auditing with it"
        )


def _audit_error(error: psycopg.Error, timeout_s: float) -> AuditError | AuditRefused:
    """The database's refusal as one line a person can act on."""
    message = _one_line(error)
    if isinstance(error, errors.QueryCanceled):
        if "statement timeout" in message:
            return AuditRefused(f"query cancelled after {timeout_s:g} s (statement timeout)")
        return AuditRefused(f"query cancelled ({message})")
    sqlstate = error.sqlstate or ""
    # Class 25 (invalid transaction state) holds "cannot execute DELETE in a
    # read-only transaction"; class 2D a COMMIT tried inside a DO block.
    if sqlstate[:2] in _READ_ONLY_STATE_CLASSES:
        return AuditRefused(f"refused: audit queries run read-only ({message})")
    if "multiple commands" in message:
        return AuditRefused(f"refused: audit queries run one statement at a time ({message})")
    if sqlstate == _INSUFFICIENT_PRIVILEGE:
        return AuditRefused(
            f"refused: audit queries may read the log and the read models only ({message})"
        )
    if isinstance(error, psycopg.OperationalError):  # the session ended under the query
        return AuditRefused(f"the audit query failed: {message}")
    return AuditError(f"SQL error: {message}")


def _one_line(error: psycopg.Error) -> str:
    """PostgreSQL's primary message and hint, without the multi-line context."""
    primary = error.diag.message_primary
    if primary is None:
        return " ".join(str(error).split())
    hint = error.diag.message_hint
    return f"{primary} (hint: {hint})" if hint else primary
