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


class StoredState(msgspec.Struct, frozen=True, gc=False):
    """The stored state of one event, decoded: its payload is the latest schema version
    once ``StateDecoder.decode`` has upcast it (``decode_json`` alone leaves it as stored).

    A struct the GC need not track, made once per event read: a rebuild makes millions.
    """

    timestamp: datetime
    payload: Any
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


class StateDecoder(msgspec.Struct, frozen=True, gc=False):
    """How one topic's stored state is decoded: the only decoder of stored events.

    Everything that depends on the topic (the event class, a msgspec decoder
    for exactly its payload versions, the latest version) is looked up once
    per topic, so decoding an event is one msgspec call and, for an old
    payload, its upcasts. The mapper (loading aggregates) and the log's
    readers (``eventlog.reading.decode_rows``) both decode with it.
    """

    event_class: PodiumEventType
    decode_json: Callable[[bytes], StoredState]  # the JSON as it is, payload as stored
    latest: type[Payload]

    def decode(self, state: bytes) -> StoredState:
        """The stored state, cleaned (``decode_stored``), its payload upcast to the latest."""
        stored = decode_stored(self.decode_json, state)
        if isinstance(stored.payload, self.latest):
            return stored
        return StoredState(stored.timestamp, self.upcast(stored.payload), stored.originator_topic)

    def upcast(self, payload: Payload) -> Payload:
        """An older schema version's payload as the latest."""
        while not isinstance(payload, self.latest):
            payload = payload.upcast()
        return payload


# A plain dict, not functools.cache: decode_rows looks a topic up once per row,
# and dict.get is the cheapest lookup Python has.
STATE_DECODERS: dict[str, StateDecoder] = {}


def state_decoder(topic: str) -> StateDecoder:
    """The decoder of one topic's stored state (made on first use, then shared)."""
    decoder = STATE_DECODERS.get(topic)
    if decoder is None:
        cls = event_class(topic)
        versions = payload_versions(cls)
        payload = versions[0] if len(versions) == 1 else Union[versions]  # noqa: UP007
        # StoredState with the payload's type narrowed to this event's versions.
        state: type[StoredState] = msgspec.defstruct(  # type: ignore[assignment]
            f"{cls.__name__}State",
            [("timestamp", datetime), ("payload", payload)],
            bases=(StoredState,),
            frozen=True,
            gc=False,
        )
        decode = msgspec.json.Decoder(state).decode
        decoder = STATE_DECODERS[topic] = StateDecoder(cls, decode, versions[0])
    return decoder


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
        decoder = state_decoder(stored_event.topic)
        stored = decoder.decode(stored_event.state)
        state: dict[str, Any] = {
            "originator_id": stored_event.originator_id,
            "originator_version": stored_event.originator_version,
            "timestamp": stored.timestamp,
            "payload": stored.payload,
        }
        if stored.originator_topic is not None:
            state["originator_topic"] = stored.originator_topic
        domain_event = object.__new__(decoder.event_class)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event
