"""What the `podium` command line is given, checked: a clear usage error, never a traceback."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from uuid import UUID


class UsageError(Exception):
    """The command line asks for something podium cannot do."""


def given_token(args: argparse.Namespace) -> str | None:
    """The token `podium up` requires: --token, --token-file or $PODIUM_TOKEN, never an empty one
    (an empty token would let everyone in)."""
    if args.token is not None and args.token_file is not None:
        raise UsageError("give --token or --token-file, not both")
    if args.token_file is not None:
        source = f"--token-file {args.token_file}"
        try:
            token = Path(args.token_file).read_text().strip()
        except (OSError, UnicodeDecodeError) as unreadable:
            reason = getattr(unreadable, "strerror", None) or unreadable
            raise UsageError(f"{source}: cannot read it: {reason}") from None
    elif args.token is not None:
        source, token = "--token", args.token
    elif "PODIUM_TOKEN" in os.environ:
        source, token = "PODIUM_TOKEN", os.environ["PODIUM_TOKEN"]
    else:
        return None
    if not token.strip():
        raise UsageError(f"{source} is empty: give a real token, or none (then loopback only)")
    return token


def mode_line(demo: bool) -> str:
    if demo:
        return (
            "podium: demo mode: agents talk to the built-in model double, not the Anthropic API "
            "(set ANTHROPIC_API_KEY for real work)"
        )
    return "podium: agents use the Anthropic API as your environment configures it"


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"(?:\*\.)?{_LABEL}(?:\.{_LABEL})*")


def checked_domains(hosts: list[str]) -> tuple[str, ...]:
    for host in hosts:
        if len(host) > 253 or not _DOMAIN.fullmatch(host):
            raise UsageError(
                f"--allow-domain expects a host name such as example.com, not {host!r}"
            )
    return tuple(hosts)


def given_session(text: str | None) -> UUID | None:
    if text is None:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise UsageError(f"--session expects a session id (a UUID), got {text!r}") from None


PERMISSION_MODES = ("rules", "allow-all")


def allows_all(mode: str) -> bool:
    """Whether `--permissions` lets every tool run without asking."""
    if mode not in PERMISSION_MODES:
        raise UsageError(f"--permissions is rules or allow-all, not {mode!r}")
    return mode == "allow-all"
