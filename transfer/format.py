"""The lines of an export file (docs/export-format.md), as msgspec structs.

A file is a header line, then one line per event, per transcript and per
transcript entry. An event's stored state travels as it is stored: as JSON
(``msgspec.Raw``: the bytes verbatim, readable in the file) when it is JSON
a line can hold, otherwise base64 (``state_base64``), so every state, even
one the source's read models could not decode, comes back byte for byte.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

FORMAT = "podium-session"
VERSION = 1


class TransferRefused(Exception):
    """A session cannot be exported, or a file imported; the message (one line) says why."""


class Probe(msgspec.Struct):
    """What the first line must say before anything else of it is read."""

    format: str | None = None
    version: int | None = None


class Header(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind", tag="header"
):
    format: str
    version: int
    session_id: UUID
    exported_at: datetime
    source_head: int  # the source log's last notification id when exported
    events: int  # lines of each kind that follow: a shorter file was cut off
    transcripts: int
    entries: int


NO_STATE = msgspec.Raw(b"null")  # an event line's state when it is in state_base64


class EventLine(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    omit_defaults=True,
    tag_field="kind",
    tag="event",
):
    stream_id: UUID
    version: int
    topic: str
    notification_id: int  # the source's: summaries name events by it
    state: msgspec.Raw = NO_STATE  # the stored state, verbatim (a JSON object)
    state_base64: bytes | None = None  # ... when it is not JSON a line can hold

    def __post_init__(self) -> None:
        if (self.state == NO_STATE) == (self.state_base64 is None):
            raise ValueError("an event has either state or state_base64")
        if self.version < 1 or self.notification_id < 1:
            raise ValueError("versions and notification ids start at 1")

    @property
    def stored(self) -> bytes:
        """The state as the source stored it."""
        if self.state_base64 is None:
            return bytes(self.state)
        assert self.state_base64 is not None
        return self.state_base64


class TranscriptLine(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind", tag="transcript"
):
    project_key: str
    session_id: str  # Claude's session id, not podium's
    subpath: str  # "" for the session's main transcript
    last_seq: int
    updated_at: datetime
    summary: str | None  # the SDK's folded summary, JSON text

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.project_key, self.session_id, self.subpath)


class EntryLine(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind", tag="entry"
):
    project_key: str
    session_id: str
    subpath: str
    seq: int
    uuid: str | None
    entry: str  # the transcript line's JSON text, exactly as stored

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.project_key, self.session_id, self.subpath)


Line = Header | EventLine | TranscriptLine | EntryLine
encode = msgspec.json.Encoder().encode
probe = msgspec.json.Decoder(Probe).decode
decode_line = msgspec.json.Decoder(Line).decode


def line_of(value: Line) -> bytes:
    return encode(value) + b"\n"


def holds_as_json(state: bytes) -> bool:
    """Whether the state can travel verbatim as JSON: a UTF-8 JSON object on one line."""
    if not state.startswith(b"{") or b"\n" in state or b"\r" in state:
        return False
    try:
        state.decode()
        msgspec.json.decode(state)
    except (UnicodeDecodeError, msgspec.DecodeError):
        return False
    return True
