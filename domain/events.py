"""What every podium event shares: a msgspec payload with a schema version.

An event is an eventsourcing domain event (originator id, version, timestamp)
whose one field of its own is ``payload``: a frozen msgspec Struct tagged with
its schema version ``v``. The payload is what the JSON in the store holds, so
audit SQL reads it as plain JSON, and what the codec validates on the way in
and out.

History is never rewritten. When a payload's shape changes, the old struct
stays (listed in the event's ``previous_payloads``) with an ``upcast()`` to
the next version, and old events are upcast as they are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import msgspec
from eventsourcing.domain import Aggregate

from domain.errors import NegativeAmount


class Payload(msgspec.Struct, frozen=True, kw_only=True, tag_field="v", tag=1):
    """The body of an event. ``v`` (the tag) is its schema version."""

    def upcast(self) -> Payload:
        """Return this payload as the next schema version (old versions only)."""
        raise NotImplementedError(f"{type(self).__name__} is the latest version")


@dataclass(frozen=True)
class PodiumEvent(Aggregate.Event):
    """An event on an existing stream."""

    payload: Payload
    # Older schema versions of this event's payload, each with an upcast().
    previous_payloads: ClassVar[tuple[type[Payload], ...]] = ()


@dataclass(frozen=True)
class PodiumCreated(Aggregate.Created):
    """The first event of a stream."""

    payload: Payload
    previous_payloads: ClassVar[tuple[type[Payload], ...]] = ()


class ModelTokens(msgspec.Struct, frozen=True, kw_only=True):
    """One model's share of a turn (the CLI's ``modelUsage``: sub-agents'
    models are among them), with the CLI's cost for it."""

    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0  # all of it; the 1-hour part below
    cache_creation_1h_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0  # the CLI's
    priced_usd: float | None = None  # podium's (domain/prices.py), set as the turn is recorded


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """Tokens of one model turn, as the Messages API reports them.

    ``cache_creation_input_tokens`` is every cache write; the API splits it by
    time to live (``usage.cache_creation``), which prices differently: the
    1-hour part is ``cache_creation_1h_input_tokens``, the rest is 5-minute
    writes (events recorded before the split have 0 there: all 5-minute, the
    CLI's default). ``models``: each model's share, sub-agents' included,
    where the CLI reports it (the totals above then include them too)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0
    models: tuple[ModelTokens, ...] = ()

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Usage:
        """A Messages API answer's ``usage`` object (counts may be missing or null)."""
        split = raw.get("cache_creation")
        return cls(
            input_tokens=_count(raw, "input_tokens"),
            output_tokens=_count(raw, "output_tokens"),
            cache_creation_input_tokens=_count(raw, "cache_creation_input_tokens"),
            cache_read_input_tokens=_count(raw, "cache_read_input_tokens"),
            cache_creation_1h_input_tokens=(
                _count(split, "ephemeral_1h_input_tokens") if isinstance(split, Mapping) else 0
            ),
        )

    @property
    def cache_creation_5m_input_tokens(self) -> int:
        return self.cache_creation_input_tokens - self.cache_creation_1h_input_tokens

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
        )

    def check(self) -> None:
        """Refuse negative counts: the log's sums must never go down."""
        for counts in (self, *self.models):
            for field in counts.__struct_fields__:
                value = getattr(counts, field)
                if isinstance(value, int | float) and value < 0:  # priced_usd may be None
                    raise NegativeAmount(field, value)
        if (five_minutes := self.cache_creation_5m_input_tokens) < 0:
            raise NegativeAmount("cache_creation_5m_input_tokens", five_minutes)

    def share(self, model: str, priced_usd: float | None = None) -> ModelTokens:
        """The whole turn as one model's share (where the CLI reports no ``models``)."""
        return ModelTokens(
            model=model,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens,
            cache_creation_1h_input_tokens=self.cache_creation_1h_input_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens,
            priced_usd=priced_usd,
        )


def _count(raw: Mapping[str, Any], key: str) -> int:
    return int(raw.get(key) or 0)


def check_cost(cost_usd: float) -> None:
    if cost_usd < 0:
        raise NegativeAmount("cost_usd", cost_usd)
