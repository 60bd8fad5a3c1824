"""How events become bytes in the store, and back: msgspec JSON, no magic.

The stored state of an event is a JSON object a person (and audit SQL) can
read as it is::

    {"timestamp": "2026-11-25T06:42:39.866Z", "payload": {"v": 2, "name": "alice", ...}}

plus ``originator_topic`` on the first event of a stream. There is no type
tagging beyond the payload's schema version ``v``: the event's topic says
which payload struct to decode, and msgspec validates it on the way.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, Union
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from domain.events import Payload, PodiumCreated, PodiumEvent
from domain.text import clean_json, clean_value

PodiumEventType = type[PodiumEvent] | type[PodiumCreated]
T = TypeVar("T")


# A NUL in a string, as msgspec escapes it (and PostgreSQL's jsonb refuses it).
# Looked for with ``rfind``, the cheapest test here (measured on stored
# states: about half the time of ``in``, which first tries the needle as an
# int, and faster than ``find``).
NUL_ESCAPE = b"\\u0000"


class MsgspecTranscoder(Transcoder):
    """Encodes event state as plain JSON with msgspec (no compression, no cipher).

    Every event passes here on its way to the store, so here text PostgreSQL
    cannot hold is cleaned (``domain.text``): a NUL is recorded as "␀", a
    lone surrogate as U+FFFD. Clean state, nearly all of it, costs one
    search of the encoded bytes.
    """

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder()

    def encode(self, obj: Any) -> bytes:
        try:
            data = self._encoder.encode(obj)
        except UnicodeEncodeError:  # a lone surrogate: msgspec cannot encode it
            return self._encoder.encode(clean_value(msgspec.to_builtins(obj)))
        if data.rfind(NUL_ESCAPE) >= 0:  # or an escaped backslash, then "u0000": clean_json tells
            return clean_json(data)
        return data

    def decode(self, data: bytes) -> Any:
        return self._decoder.decode(data)


class Envelope(msgspec.Struct, frozen=True):
    """The stored state of one event, with its payload decoded to the latest version."""

    timestamp: datetime
    payload: Payload
    originator_topic: str | None = None


@cache
def event_class(topic: str) -> PodiumEventType:
    cls = resolve_topic(topic)
    if not (isinstance(cls, type) and issubclass(cls, PodiumEvent | PodiumCreated)):
        raise TypeError(f"{topic!r} is not a podium event")
    return cls


@cache
def payload_versions(cls: PodiumEventType) -> tuple[type[Payload], ...]:
    """The payload structs an event's state may hold, latest first."""
    latest = cls.__dataclass_fields__["payload"].type
    if isinstance(latest, str):  # postponed annotation: resolve it in the event's module
        latest = getattr(sys.modules[cls.__module__], latest)
    return (latest, *cls.previous_payloads)


@cache
def _envelope_decoder(cls: PodiumEventType) -> msgspec.json.Decoder[Any]:
    versions = payload_versions(cls)
    payload_type = versions[0] if len(versions) == 1 else Union[versions]  # noqa: UP007
    envelope = msgspec.defstruct(
        f"{cls.__name__}Envelope",
        [
            ("timestamp", datetime),
            ("payload", payload_type),
            ("originator_topic", str | None, None),
        ],
        frozen=True,
    )
    return msgspec.json.Decoder(envelope)


def decode_stored(decode: Callable[[bytes], T], state: bytes) -> T:
    """``decode(state)``, with what the store may hold uncleaned cleaned first.

    An older podium stored NUL as the escape ``\\u0000``, which decodes but
    no read model can hold: it is read as "␀", as it would be recorded now.
    A lone surrogate escape does not decode: it is cleaned, and decoded
    again. What fails after that (bytes that are not UTF-8, JSON that does
    not parse or does not fit its payload struct) raises ``msgspec.DecodeError``.
    """
    if state.rfind(NUL_ESCAPE) >= 0:
        return decode(clean_json(state))
    try:
        return decode(state)
    except msgspec.DecodeError:
        cleaned = clean_json(state)
        if cleaned == state:
            raise
        return decode(cleaned)


def decode_state(topic: str, state: bytes) -> Envelope:
    """Decode stored state to an envelope whose payload is the latest schema version."""
    cls = event_class(topic)
    raw = decode_stored(_envelope_decoder(cls).decode, state)
    payload: Payload = raw.payload
    latest = payload_versions(cls)[0]
    while not isinstance(payload, latest):
        payload = payload.upcast()
    return Envelope(raw.timestamp, payload, raw.originator_topic)


class PayloadMapper(Mapper[UUID]):
    """Maps podium events to stored events and back, upcasting old payloads."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """The event's attributes but its id and version, as JSON (what eventsourcing's
        ``Mapper.to_stored_event`` stores, byte for byte).

        Written out because it runs for every event saved, on the GIL the group
        committer also needs: this skips the compressor and cipher checks
        (podium has neither) and eventsourcing's ``class_version`` (podium
        versions payloads instead), about a third of the mapper's cost.
        """
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        return StoredEvent(
            originator_id,
            originator_version,
            get_topic(type(domain_event)),
            self.transcoder.encode(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = event_class(stored_event.topic)
        envelope = decode_state(stored_event.topic, stored_event.state)
        state: dict[str, Any] = {
            "originator_id": stored_event.originator_id,
            "originator_version": stored_event.originator_version,
            "timestamp": envelope.timestamp,
            "payload": envelope.payload,
        }
        if envelope.originator_topic is not None:
            state["originator_topic"] = envelope.originator_topic
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event
