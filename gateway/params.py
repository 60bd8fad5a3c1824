"""Query parameters and resume ids, checked: a bad value is a 422 problem, never a 500.

An empty value (``?limit=``) means the same as no value, as an HTML form
left blank does. Text PostgreSQL cannot hold (NUL) is refused here, before a
query is built from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gateway.problems import Problem

NOTIFICATION_ID_MAX = 2**63 - 1  # notification ids are PostgreSQL bigints
# ASCII digits only: str.isdigit() also accepts '²' (which int() refuses)
# and '\u0661' (an Arabic-Indic one, which int() reads).
_DIGITS = re.compile(r"[0-9]{1,19}")
_SHOWN = 40  # how much of a refused value a problem's detail repeats


def shown(raw: str) -> str:
    """A refused value as a detail quotes it: a 5,000-digit id is not echoed back whole."""
    return repr(raw if len(raw) <= _SHOWN else raw[:_SHOWN] + "…")


def given(params: Mapping[str, str], name: str) -> str | None:
    """The parameter's value, or None when it is absent or empty."""
    raw = params.get(name)
    if not raw:
        return None
    if "\x00" in raw:
        raise Problem(422, f"{name} contains a NUL character (U+0000)")
    return raw


def ascii_number(raw: str) -> int | None:
    """The number ``raw`` writes in ASCII digits, or None when it is anything else
    (or too long to be a bigint: reading a 5,000-digit one would cost for nothing)."""
    return int(raw) if _DIGITS.fullmatch(raw) else None


def whole_number(raw: str, name: str, low: int, high: int) -> int:
    value = ascii_number(raw)
    if value is not None and low <= value <= high:
        return value
    raise Problem(422, f"{name} must be a whole number from {low} to {high}, not {shown(raw)}")


def int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = given(params, name)
    return default if raw is None else whole_number(raw, name, low, high)


def choice_param(params: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    raw = given(params, name)
    if raw is not None and raw not in choices:
        raise Problem(422, f"{name} must be one of {', '.join(choices)}, not {shown(raw)}")
    return raw


def text_param(params: Mapping[str, str], name: str, max_length: int = 200) -> str | None:
    raw = given(params, name)
    if raw is not None and len(raw) > max_length:
        raise Problem(422, f"{name} is longer than {max_length} characters")
    return raw
