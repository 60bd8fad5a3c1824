"""The `podium` command line.

Every command finds its database the same way (``--database-url`` or
``DATABASE_URL``; otherwise the embedded PostgreSQL in ``--data-dir`` or
``PODIUM_DATA_DIR``), sets up the schema if needed, and reports failures as
one line on stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from domain.errors import DomainError
from gateway.audit import AuditError, AuditRefused, list_queries, parse_params, run_named, run_sql
from gateway.cli_approvals import add_approval_commands
from gateway.cli_common import CommandFailed, database, stop_on_sigterm
from gateway.cli_inputs import (
    UsageError,
    allows_all,
    checked_domains,
    given_session,
    given_token,
    mode_line,
)
from gateway.cli_summarize import (
    add_summarize_command,
    add_summarizer_options,
    summarizer_settings,
)
from gateway.cli_transfer import add_transfer_commands
from gateway.database import DatabaseUnavailable, default_data_dir
from gateway.event_lines import EventFilter, EventLines
from gateway.loop import run as run_event_loop
from gateway.output import Format, print_result
from gateway.progress import ProgressBar
from projections.read_models import NAMES, UnknownReadModel
from projections.rebuild import RebuildInProgress, rebuild
from projections.runner import ProjectionRunner

if TYPE_CHECKING:
    from gateway.system import SystemConfig

EXIT_USAGE = 2
EXIT_FAILURE = 1


# --- commands ---------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    with database(args):
        print("schema is up to date")
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    session_id = given_session(args.session)
    with database(args) as conninfo:
        tail = EventLines(conninfo, EventFilter(session_id, args.agent), after=args.after)
        if not args.follow:
            tail.print_all(sys.stdout)
            return 0
        stop_on_sigterm(tail.stopping.set)
        with contextlib.suppress(KeyboardInterrupt):
            tail.follow(sys.stdout)
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    if args.all and args.names:
        raise UsageError("give read model names or --all, not both")
    if not args.all and not args.names:
        raise UsageError(f"name the read models to rebuild, or --all ({', '.join(NAMES)})")
    names = list(NAMES) if args.all else args.names
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        raise UnknownReadModel(unknown)
    with database(args) as conninfo:
        bar = ProgressBar("rebuild")
        result = rebuild(conninfo, names, batch_size=args.batch_size, progress=bar.update)
    print(
        f"rebuilt {', '.join(result.names)} from {result.events:,} events "
        f"in {result.seconds:.1f}s ({result.events_per_s:,.0f} events/s)"
    )
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    with database(args) as conninfo:
        runner = ProjectionRunner(conninfo, batch_size=args.batch_size)
        if args.once:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                applied = runner.catch_up(conn)
            print(f"read models are current ({applied:,} events applied)")
            return 0
        stop_on_sigterm(runner.stop)
        print("keeping read models current; Ctrl-C to stop", file=sys.stderr)
        with contextlib.suppress(KeyboardInterrupt):
            runner.run_forever()
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    # The runtime (and the SDK under it) loads only for the commands that run agents.
    from gateway.broadcast import BroadcastUnavailable, open_broadcast
    from gateway.same_origin import public_origin
    from gateway.serve import ServeOptions, serve, setup_logging
    from gateway.system import demo_wanted

    try:
        open_broadcast(args.broadcast_url)
    except BroadcastUnavailable as unusable:
        raise UsageError(f"--broadcast-url: {unusable}") from None
    demo = demo_wanted(args.demo)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if args.port < 1 or args.port > 65535:
        raise UsageError(f"--port must be from 1 to 65535, not {args.port}")
    if args.public_url is not None:
        try:
            public_origin(args.public_url)
        except ValueError as invalid:
            raise UsageError(f"--public-url: {invalid}") from None
    config = system_config(args, data_dir, demo)
    options = ServeOptions(
        host=args.host,
        port=args.port,
        token=given_token(args),
        session_id=given_session(args.session),
        broadcast_url=args.broadcast_url,
        logging_dir=Path(args.log_dir) if args.log_dir else data_dir / "logs",
        public_url=args.public_url,
    )
    print(mode_line(demo), file=sys.stderr)
    logging_file = setup_logging(options.logging_dir)
    print(f"podium: logging to {logging_file}", file=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        run_event_loop(serve(config, options))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from gateway.chat import chat, typed_messages
    from gateway.system import System, demo_wanted

    session_id = given_session(args.session)
    demo = demo_wanted(args.demo)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    config = system_config(args, data_dir, demo)
    print(mode_line(demo), file=sys.stderr)
    messages = args.messages or typed_messages()

    async def run() -> None:
        async with System(config) as system:
            await chat(system, messages, session_id, wait_for_agents=not args.no_wait)

    with contextlib.suppress(KeyboardInterrupt):
        run_event_loop(run())
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    if args.list:
        for query in list_queries():
            usage = " ".join(
                f"--{p.name} {p.type.upper()}" if p.required else f"[--{p.name} {p.type.upper()}]"
                for p in query.params
            )
            print(f"{query.name} {usage}".rstrip())
            print(f"    {query.description}")
        return 0
    if bool(args.sql) == bool(args.query):
        raise UsageError("name an audit query (see --list) or give --sql, one of the two")
    fmt: Format = "json" if args.json else "csv" if args.csv else "table"
    params = parse_params(args.params)
    if args.sql and params:
        raise UsageError("--sql takes no query parameters")
    with database(args) as conninfo:
        if args.sql:
            result = run_sql(conninfo, args.sql, timeout_s=args.timeout)
        else:
            result = run_named(conninfo, args.query, params, timeout_s=args.timeout)
    print_result(result, fmt, sys.stdout)
    return 0


def system_config(args: argparse.Namespace, data_dir: Path, demo: bool) -> SystemConfig:
    """What the commands that run agents (up, chat) were told to run them with."""
    from gateway.system import SystemConfig

    return SystemConfig(
        cwd=Path(args.cwd).expanduser().resolve(),
        database_url=args.database_url,
        data_dir=data_dir,
        demo=demo,
        max_agents=args.max_agents,
        allowed_domains=checked_domains(args.allow_domain),
        approval_timeout=approval_timeout(args.approval_timeout),
        allow_all=allows_all(args.permissions),
        summarizer=summarizer_settings(args),
    )


def approval_timeout(seconds: float) -> float:
    if not seconds > 0:  # NaN too
        raise UsageError(f"--approval-timeout must be a positive number of seconds, not {seconds}")
    return seconds


# --- parser -----------------------------------------------------------------


def _agent_options(p: argparse.ArgumentParser) -> None:
    """The options of the commands that run agents (up, chat)."""
    p.add_argument("--demo", action="store_true", help="use the model double even with an API key")
    p.add_argument("--max-agents", type=int, default=8, help="agents working at once; more wait")
    p.add_argument(
        "--allow-domain",
        action="append",
        default=[],
        metavar="HOST",
        help="a host agents' Bash may reach through the sandbox (repeatable; *.example.com "
        "for its subdomains; default: none in real mode, the model double in demo mode)",
    )
    p.add_argument(
        "--approval-timeout",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="a request for permission nobody decides on expires after this (default: 3600)",
    )
    p.add_argument(
        "--permissions",
        default="rules",
        metavar="{rules,allow-all}",
        help="rules: tools the permission rules say ask wait for a person's approval "
        "(default); allow-all: no tool ever asks (recorded in the log)",
    )
    add_summarizer_options(p)


def add_audit_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "audit",
        allow_abbrev=False,
        help="run a named audit query or read-only SQL against the log",
        description="Named queries take --PARAM VALUE options after the query name; see --list.",
    )
    p.add_argument("query", nargs="?", help="name of an audit query (see --list)")
    p.add_argument(
        "--list", action="store_true", help="list the named queries and their parameters"
    )
    p.add_argument("--sql", help="run this SQL read-only instead of a named query")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--csv", action="store_true", help="print CSV")
    p.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="statement timeout in seconds"
    )
    p.set_defaults(handler=cmd_audit)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="podium",
        allow_abbrev=False,
        description="A web orchestrator for teams of Claude Code agents, "
        "event-sourced on PostgreSQL.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="PostgreSQL to use (default: $DATABASE_URL; without one, an embedded server)",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="data folder of the embedded PostgreSQL "
        f"(default: $PODIUM_DATA_DIR or {default_data_dir()})",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("migrate", help="set up or update the database schema (idempotent)")
    p.set_defaults(handler=cmd_migrate)

    p = commands.add_parser("events", help="print the event log; --follow to keep printing")
    p.add_argument("--session", help="only this session's events (session id)")
    p.add_argument("--agent", help="only this agent's events (name, case-insensitive)")
    p.add_argument(
        "--after", type=int, default=0, metavar="ID", help="start after this notification id"
    )
    p.add_argument(
        "-f", "--follow", action="store_true", help="keep printing new events as they happen"
    )
    p.set_defaults(handler=cmd_events)

    p = commands.add_parser("rebuild", help="rebuild read models from the log and swap them in")
    p.add_argument("names", nargs="*", metavar="NAME", help=f"read models: {', '.join(NAMES)}")
    p.add_argument("--all", action="store_true", help="rebuild every read model")
    p.add_argument("--batch-size", type=int, default=5_000, help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_rebuild)

    p = commands.add_parser("project", help="keep the read models current from the log")
    p.add_argument("--once", action="store_true", help="catch up to the head of the log, then exit")
    p.add_argument("--batch-size", type=int, default=5_000, help="events per transaction")
    p.set_defaults(handler=cmd_project)

    p = commands.add_parser("up", help="start podium: database, agents, gateway and web UI")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=9403, help="port (default 9403)")
    p.add_argument("--cwd", default=".", help="working directory for new sessions (default: here)")
    p.add_argument("--session", help="resume this session (its id)")
    _agent_options(p)
    p.add_argument(
        "--token",
        help="require this token (default $PODIUM_TOKEN; generated when reachable beyond "
        "loopback: bound elsewhere or with --public-url)",
    )
    p.add_argument("--token-file", metavar="PATH", help="require the token this file holds")
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL people open podium at, e.g. behind a proxy (its host is then accepted)",
    )
    p.add_argument("--log-dir", help="folder of podium.log (default: DATA_DIR/logs)")
    p.add_argument(
        "--broadcast-url",
        default=os.environ.get("PODIUM_BROADCAST_URL", "memory://"),
        help="broadcaster backend for live partial text (default memory://)",
    )
    p.set_defaults(handler=cmd_up)

    p = commands.add_parser(
        "chat",
        help="talk to the orchestrator from the terminal (starts podium for the conversation)",
    )
    p.add_argument(
        "messages", nargs="*", metavar="MESSAGE", help="messages to send (default: type them)"
    )
    p.add_argument("--session", help="continue this session (its id)")
    p.add_argument("--cwd", default=".", help="the session's working directory (default: here)")
    _agent_options(p)
    p.add_argument("--no-wait", action="store_true", help="do not wait for agents to finish")
    p.set_defaults(handler=cmd_chat)

    add_audit_command(commands)
    add_approval_commands(commands)
    add_transfer_commands(commands)
    add_summarize_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "audit":
        args.params = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`podium events | head`): stop quietly, like other tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (UsageError, UnknownReadModel, AuditError) as error:
        print(f"podium {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (
        DatabaseUnavailable,
        RebuildInProgress,
        DomainError,
        AuditRefused,
        CommandFailed,
    ) as error:
        print(f"podium {args.command}: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except psycopg.Error as error:
        reason = " ".join(str(error).split())
        print(f"podium {args.command}: database error: {reason}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
