"""Reading an export file: every line checked before anything is written.

A file is refused (``TransferRefused``, one line naming the line and the
problem) when it is not a podium export, is of another format version, has
a line that is not JSON or not one of the format's lines, holds an event
whose topic is not a podium event, a stream whose versions have a gap, a
summary of an event it does not hold, or fewer lines than its header says
(it was cut off).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic

from domain.codec import StoredState, event_class, state_decoder
from domain.session import SessionStarted
from domain.summarizer import EventSummarized, EventSummarizedV1, summaries_id
from domain.system_log import SystemLoggedV1
from transfer.export import SYSTEM_LOGGED
from transfer.format import (
    FORMAT,
    VERSION,
    EntryLine,
    EventLine,
    Header,
    TranscriptLine,
    TransferRefused,
    decode_line,
    probe,
)

Progress = Callable[[int, int], None]
SUMMARIZED = get_topic(EventSummarized)


@dataclass
class Bundle:
    """A checked export file: what import writes."""

    header: Header
    streams: dict[UUID, list[EventLine]] = field(default_factory=dict)  # but the system log's
    logged: list[tuple[EventLine, StoredState]] = field(default_factory=list)
    transcripts: dict[tuple[str, str, str], TranscriptLine] = field(default_factory=dict)
    entries: dict[tuple[str, str, str], list[EntryLine]] = field(default_factory=dict)
    summaries: dict[int, EventSummarizedV1] = field(default_factory=dict)  # by the line's id

    @property
    def summaries_id(self) -> UUID:
        return summaries_id(self.header.session_id)


def read_bundle(lines: Iterable[bytes], progress: Progress | None = None) -> Bundle:
    """The file's lines, checked; TransferRefused naming the first problem."""
    reading = iter(lines)
    bundle = Bundle(_header(next(reading, b"")))
    total = bundle.header.events + bundle.header.transcripts + bundle.header.entries
    count = 0
    for number, text in enumerate(reading, start=2):
        if not text.strip():
            continue
        count += 1
        try:
            line = decode_line(text)
            _add(bundle, line)
        except Exception as error:  # whatever a bad line raises, it is one line's problem
            raise TransferRefused(f"line {number}: {_said(error)}") from None
        if progress is not None and count % 1_000 == 0:
            progress(count, total)
    _check_whole(bundle, count, total)
    if progress is not None:
        progress(count, total)
    return bundle


def _header(text: bytes) -> Header:
    try:
        said = probe(text)
    except msgspec.DecodeError:
        raise TransferRefused("line 1: not a podium export (not JSON)") from None
    if said.format != FORMAT:
        raise TransferRefused(f"line 1: not a podium export (no {FORMAT!r} header)")
    if said.version != VERSION:
        raise TransferRefused(
            f"line 1: format version {said.version}; this podium reads version {VERSION}"
        )
    try:
        header = decode_line(text)
    except msgspec.DecodeError as error:
        raise TransferRefused(f"line 1: {_said(error)}") from None
    if not isinstance(header, Header):
        raise TransferRefused("line 1: the first line is not the header")
    return header


def _add(bundle: Bundle, line: object) -> None:
    if isinstance(line, EventLine):
        _add_event(bundle, line)
    elif isinstance(line, TranscriptLine):
        if line.key in bundle.transcripts:
            raise ValueError(f"transcript {line.session_id} {line.subpath!r} twice")
        bundle.transcripts[line.key] = line
    elif isinstance(line, EntryLine):
        if line.key not in bundle.transcripts:
            raise ValueError(
                f"an entry of transcript {line.session_id}, which no line before names"
            )
        entries = bundle.entries.setdefault(line.key, [])
        if entries and line.seq <= entries[-1].seq:
            raise ValueError(f"entry {line.seq} of transcript {line.session_id} out of order")
        entries.append(line)
    else:
        raise ValueError("a second header")


def _add_event(bundle: Bundle, line: EventLine) -> None:
    event_class(line.topic)  # TypeError (or an import error's) for a topic podium does not know
    if line.topic == SYSTEM_LOGGED:
        stored = state_decoder(line.topic).decode(line.stored)
        assert isinstance(stored.payload, SystemLoggedV1)
        if stored.payload.session_id != bundle.header.session_id:
            raise ValueError("a system log entry of another session")
        bundle.logged.append((line, stored))
        return
    stream = bundle.streams.setdefault(line.stream_id, [])
    expected = stream[-1].version + 1 if stream else 1
    if line.version != expected:
        raise ValueError(
            f"stream {line.stream_id} goes on at version {line.version}, not {expected}"
        )
    if line.topic == SUMMARIZED:
        summary = state_decoder(line.topic).decode(line.stored).payload
        assert isinstance(summary, EventSummarizedV1)
        bundle.summaries[line.notification_id] = summary
    stream.append(line)


def _check_whole(bundle: Bundle, count: int, total: int) -> None:
    if count != total:
        raise TransferRefused(
            f"the file has {count} lines after its header, which says {total}: it was cut off"
        )
    session = bundle.streams.get(bundle.header.session_id)
    if not session or session[0].topic != get_topic(SessionStarted):
        raise TransferRefused(f"the file does not hold session {bundle.header.session_id}")
    for stream_id in bundle.streams:
        if stream_id != bundle.summaries_id and any(
            line.topic == SUMMARIZED for line in bundle.streams[stream_id]
        ):
            raise TransferRefused(f"stream {stream_id} holds summaries but is not the session's")
    held = {
        line.notification_id
        for stream_id, lines in bundle.streams.items()
        if stream_id != bundle.summaries_id
        for line in lines
    }
    for line_id, summary in bundle.summaries.items():
        if summary.notification_id not in held:
            raise TransferRefused(
                f"the summary #{line_id} is of event #{summary.notification_id}, "
                "which the file does not hold"
            )


def _said(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]
