"""Text that PostgreSQL can hold: no NUL, no lone surrogate, valid UTF-8.

PostgreSQL's text and jsonb cannot hold U+0000 (a read model's COPY fails on
it, and so does a cast of the stored JSON to jsonb), and UTF-8 cannot encode
a lone surrogate (msgspec refuses to encode one). Agents' tool output can
carry both, so what is recorded is cleaned: a NUL becomes a visible marker,
"␀" (U+2400 SYMBOL FOR NULL), which says what was there, and a lone
surrogate or a byte that is not UTF-8 becomes U+FFFD, the replacement
character. Everything here is a pure function of its argument.

(Bytes that are not UTF-8 are not guessed at: msgspec never writes them,
and the read side skips a stored event that holds them, as a fault.)
"""

from __future__ import annotations

import re
from typing import Any

NUL_MARKER = "\u2400"
REPLACEMENT = "\ufffd"

_NUL_MARKER_UTF8 = NUL_MARKER.encode()
_REPLACEMENT_UTF8 = REPLACEMENT.encode()

# Every backslash in a JSON string starts an escape, so scanning escape by
# escape from the left tells a real "\u0000" from the harmless text "\\u0000"
# (an escaped backslash, then "u0000"). A high surrogate followed by a low
# one is a character (kept); either one alone is replaced.
_JSON_ESCAPE = re.compile(
    rb"\\(u0000"
    rb"|u[dD][89abAB][0-9a-fA-F]{2}(?:\\u[dD][c-fC-F][0-9a-fA-F]{2})?"
    rb"|u[dD][c-fC-F][0-9a-fA-F]{2}"
    rb"|.)",
    re.DOTALL,
)
_LONE_SURROGATE_LENGTH = len(b"ud800")


def clean_text(text: str) -> str:
    """``text`` with NUL marked and lone surrogates replaced (the same str when clean)."""
    if "\x00" in text:
        text = text.replace("\x00", NUL_MARKER)
    try:
        text.encode()
    except UnicodeEncodeError:
        # Through UTF-16: a surrogate pair becomes its character, a lone one U+FFFD.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def clean_value(value: Any) -> Any:
    """JSON-like data (str, list, dict, scalars) with every string cleaned, keys too."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list | tuple):
        return [clean_value(item) for item in value]
    if isinstance(value, dict):
        return {clean_value(key): clean_value(item) for key, item in value.items()}
    return value


def clean_json(data: bytes) -> bytes:
    """Encoded JSON with its NUL escapes marked and its lone surrogate escapes
    replaced; anything else, an escaped backslash before "u0000" included, as it was."""
    return _JSON_ESCAPE.sub(_clean_escape, data)


def _clean_escape(match: re.Match[bytes]) -> bytes:
    escape = match.group(1)
    if escape == b"u0000":
        return _NUL_MARKER_UTF8
    if len(escape) == _LONE_SURROGATE_LENGTH:  # a surrogate escape without its other half
        return _REPLACEMENT_UTF8
    return match.group(0)
