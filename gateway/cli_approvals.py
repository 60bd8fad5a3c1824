"""`podium approvals`, `podium approve ID`, `podium deny ID`: the approval queue in a terminal.

The queue is the approvals read model, as GET /api/approvals lists it (the
projection runner of `podium up` or `podium project` keeps it). A decision is
the application service's, exactly as one made in the browser, recorded as
made by "cli": whichever decision comes first stands, wherever it was made,
and the runtime that asked learns of it from the log.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any, TextIO
from uuid import UUID

import msgspec
import psycopg
from psycopg.rows import dict_row

from domain.approval import ApprovalStatus, Scope
from eventlog.following import listening_blocking
from eventlog.postgres import open_podium
from gateway.cli_common import CommandFailed, database, stop_on_sigterm
from gateway.cli_inputs import given_session
from gateway.reads import APPROVALS

BY = "cli"  # who decides, for the log
PREFIX = re.compile(r"[0-9a-f]{6}[0-9a-f-]*")  # the start of an id, as `podium approvals` prints it
SHOWN_INPUT = 120  # characters of a tool's input on one line
# What says most of a tool's input, in the order looked for.
SUBJECTS = ("command", "file_path", "notebook_path", "url", "query", "pattern", "path")
PENDING = ApprovalStatus.PENDING.value
REACH = {Scope.ONCE: "this once", Scope.AGENT: "for the agent", Scope.SESSION: "for the session"}
Row = dict[str, Any]  # a row of the approvals read model


# --- lines ------------------------------------------------------------------------


def input_line(tool_input: Mapping[str, Any]) -> str:
    """The tool's input on one line: a Bash command, a file path, a URL, a query;
    otherwise its JSON."""
    subject = next((tool_input[k] for k in SUBJECTS if isinstance(tool_input.get(k), str)), None)
    text = subject if subject else msgspec.json.encode(tool_input).decode()
    text = re.sub(r"\s*\n\s*", " ⏎ ", text.strip())
    return text if len(text) <= SHOWN_INPUT else text[: SHOWN_INPUT - 1] + "…"


def outcome(status: str, scope: str | None, message: str | None, by: str | None) -> str:
    """What became of a request: who decided what, or why it expired."""
    if status == ApprovalStatus.GRANTED:
        return f"granted {REACH[Scope(scope or Scope.ONCE)]} by {by}"
    if status == ApprovalStatus.DENIED:
        return f"denied by {by}: {message}" if message else f"denied by {by}"
    return f"{status}: {message}" if message else status


def request_line(row: Row) -> str:
    """One line per request: when, its id, the agent, the tool and its input, and the
    rule that asked; a decided one ends with its outcome, and is dated by it."""
    decided = row["status"] != PENDING
    at = (row["decided_at"] if decided else row["requested_at"]).strftime("%Y-%m-%d %H:%M:%S")
    rule = row["rule"] or "no rule allows it"  # requests recorded before rules have none
    line = f"{at}  {row['id']}  {row['agent']}  {row['tool']}: {input_line(row['input'])}  [{rule}]"
    if not decided:
        return line
    return f"{line}  → {outcome(row['status'], row['scope'], row['message'], row['decided_by'])}"


# --- the queue --------------------------------------------------------------------


class Queue:
    """Requests for permission in the read model, oldest first, optionally one session's."""

    def __init__(self, session_id: UUID | None) -> None:
        self.session_id = session_id

    def rows(self, conn: psycopg.Connection[Any], where: str, *params: object) -> list[Row]:
        conditions, values = [where], list(params)
        if self.session_id is not None:
            conditions.append("session_id = %s")
            values.append(self.session_id)
        query = f"{APPROVALS} WHERE {' AND '.join(conditions)} ORDER BY notification_id"
        with conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(query, values).fetchall()

    def listed(self, conn: psycopg.Connection[Any], decided: bool) -> list[Row]:
        return self.rows(conn, "status <> %s" if decided else "status = %s", PENDING)

    def changes(self, conninfo: str, decided: bool, stopping: threading.Event) -> Iterator[str]:
        """What is pending (after what was decided, with ``decided``), then each new
        request and each decision, as the read model records them, until stopped."""
        waiting: set[UUID] = set()  # shown as pending
        newest, first = 0, True  # the newest request seen; the first look
        with listening_blocking(conninfo, "podium approvals") as appends:
            while not stopping.is_set():
                seen = self.rows(
                    appends.conn, "(notification_id > %s OR id = ANY(%s))", newest, list(waiting)
                )
                for row in seen:
                    newest = max(newest, row["notification_id"])
                    if row["status"] == PENDING:
                        if row["id"] not in waiting:
                            waiting.add(row["id"])
                            yield request_line(row)
                    elif row["id"] in waiting or decided or not first:
                        waiting.discard(row["id"])
                        yield request_line(row)  # with its outcome
                first = False
                appends.wait()  # an append, or a second: the read model trails the log


def resolve(conn: psycopg.Connection[Any], given: str) -> UUID:
    """The request ``given`` names: its whole id, or the start of it (6 characters or more)."""
    text = given.strip().lower()
    with contextlib.suppress(ValueError):
        return UUID(text)
    if not PREFIX.fullmatch(text):
        raise CommandFailed(
            f"{given!r} is not a request's id: give the id `podium approvals` prints, "
            "or its first 6 characters or more"
        )
    found = conn.execute(
        "SELECT id FROM approvals WHERE id::text LIKE %s ORDER BY notification_id LIMIT 2",
        (text + "%",),
    ).fetchall()
    if not found:
        raise CommandFailed(f"no request for permission has an id starting {text}")
    if len(found) > 1:
        raise CommandFailed(f"more than one request's id starts {text}: give more of it")
    return UUID(str(found[0][0]))


# --- commands ---------------------------------------------------------------------


def cmd_approvals(args: argparse.Namespace) -> int:
    queue = Queue(given_session(args.session))
    with database(args) as conninfo:
        if not args.follow:
            with psycopg.connect(conninfo) as conn:
                rows = queue.listed(conn, args.decided)
            for row in rows:
                print(request_line(row))
            if not rows:
                print(f"no {'decided' if args.decided else 'pending'} requests", file=sys.stderr)
            return 0
        stopping = threading.Event()
        stop_on_sigterm(stopping.set)
        with contextlib.suppress(KeyboardInterrupt):
            print_lines(queue.changes(conninfo, args.decided, stopping), sys.stdout)
    return 0


def print_lines(lines: Iterator[str], out: TextIO) -> None:
    for line in lines:
        print(line, file=out, flush=True)


def decide(args: argparse.Namespace, allow: bool, scope: Scope, message: str) -> int:
    with database(args) as conninfo:
        with psycopg.connect(conninfo) as conn:
            approval_id = resolve(conn, args.id)
        with contextlib.closing(open_podium(conninfo)) as app:
            approval = app.decide_approval(approval_id, allow, scope.value, message, BY)
    decision = outcome(approval.status, approval.scope, approval.message, BY)
    print(f"{approval.agent}'s {approval.tool}: {input_line(approval.input)}: {decision}")
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    scope = Scope.AGENT if args.always else Scope.SESSION if args.session_wide else Scope.ONCE
    return decide(args, True, scope, "")


def cmd_deny(args: argparse.Namespace) -> int:
    return decide(args, False, Scope.ONCE, args.message)


def add_approval_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "approvals", help="print the requests for permission waiting for a person, oldest first"
    )
    p.add_argument("--session", help="only this session's requests (session id)")
    p.add_argument(
        "--decided",
        action="store_true",
        help="the decided requests instead (with --follow: before what is pending)",
    )
    p.add_argument(
        "-f", "--follow", action="store_true", help="keep printing new requests and decisions"
    )
    p.set_defaults(handler=cmd_approvals)

    p = commands.add_parser("approve", help="let an agent use the tool it asked for")
    p.add_argument("id", metavar="ID", help="the request's id, or its first 6 characters or more")
    reach = p.add_mutually_exclusive_group()
    reach.add_argument(
        "--always", action="store_true", help="and every such use by this agent from now on"
    )
    reach.add_argument(
        "--session-wide",
        action="store_true",
        help="and every such use by any agent of the session from now on",
    )
    p.set_defaults(handler=cmd_approve)

    p = commands.add_parser("deny", help="refuse an agent the tool it asked for")
    p.add_argument("id", metavar="ID", help="the request's id, or its first 6 characters or more")
    p.add_argument("--message", default="", help="what the agent is told (it then goes on)")
    p.set_defaults(handler=cmd_deny)
