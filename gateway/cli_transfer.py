"""`podium export SESSION [-o FILE]` and `podium import FILE`: a session, moved.

The file is JSON Lines (docs/export-format.md). Import writes all of it in
one transaction or nothing; a file that cannot be imported is refused with
one line saying why, and a file imported before adds nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from uuid import UUID

import psycopg

from gateway.cli_common import CommandFailed, database
from gateway.cli_inputs import UsageError
from gateway.progress import ProgressBar
from transfer.export import export_session
from transfer.format import TransferRefused
from transfer.importing import import_bundle
from transfer.reading import read_bundle


def cmd_export(args: argparse.Namespace) -> int:
    try:
        session_id = UUID(args.session)
    except ValueError:
        raise UsageError(f"SESSION must be a session id (a UUID), not {args.session!r}") from None
    with database(args) as conninfo, psycopg.connect(conninfo) as conn:
        try:
            with _output(args.output) as out:
                lines = 0
                for line in export_session(conn, session_id):
                    out.write(line)
                    lines += 1
        except TransferRefused as error:
            raise CommandFailed(str(error)) from None
    where = "" if args.output in (None, "-") else f" to {args.output}"
    print(f"exported session {session_id}{where}: {lines:,} lines", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[BinaryIO]:
    """Standard output, or the file, written whole or not at all (via a temporary file)."""
    if path in (None, "-"):
        yield sys.stdout.buffer
        return
    target = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def cmd_import(args: argparse.Namespace) -> int:
    try:
        file = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    except OSError as error:
        raise CommandFailed(f"cannot read {args.file}: {error.strerror}") from None
    with database(args) as conninfo, file:
        try:
            bundle = read_bundle(file, ProgressBar("import: reading", "lines", sys.stderr).update)
            imported = import_bundle(
                conninfo, bundle, ProgressBar("import: writing", "events", sys.stderr).update
            )
        except TransferRefused as error:
            raise CommandFailed(f"{args.file}: {error}") from None
    print(imported.line())
    return 0


def add_transfer_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "export", help="write a session's events and transcripts as JSON Lines (for import)"
    )
    p.add_argument("session", metavar="SESSION", help="the session's id")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    p.set_defaults(handler=cmd_export)

    p = commands.add_parser(
        "import", help="load a session `podium export` wrote (all or nothing; again: no-op)"
    )
    p.add_argument("file", metavar="FILE", help="the export file (- for standard input)")
    p.set_defaults(handler=cmd_import)
