"""What a turn's tokens cost by podium's price table, and when the CLI's own
figure disagrees with it.

The table is reference data shipped beside this module (``prices.toml``: per
model, USD per million input, output, 5-minute and 1-hour cache-write and
cache-read tokens), so a price change is an edit of that file, not of code.
A turn records the price it was given when it ended: changing the table later
never changes what the log says a turn cost.
"""

from __future__ import annotations

import re
from importlib import resources

import msgspec

from domain.events import ModelTokens, Usage

# The CLI's cost and podium's may differ by rounding, never by more than this.
TOLERANCE = 0.01
_DATED = re.compile(r"-\d{8}$")  # claude-sonnet-4-5-20250929
_SUFFIX = re.compile(r"\[[^\]]*\]$")  # claude-sonnet-4-5[1m]


class Rates(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """USD per million tokens of one model."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float


class PriceTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    models: dict[str, Rates]

    @classmethod
    def parse(cls, text: str | bytes) -> PriceTable:
        """A table from TOML text; a malformed one raises msgspec.ValidationError."""
        return msgspec.toml.decode(text, type=cls)

    @classmethod
    def shipped(cls) -> PriceTable:
        return cls.parse(resources.files("domain").joinpath("prices.toml").read_bytes())

    def rates(self, model: str) -> Rates | None:
        """The model's rates: by its id, or its id without a date or ``[1m]`` suffix."""
        model = _SUFFIX.sub("", model.strip().lower())
        return self.models.get(model) or self.models.get(_DATED.sub("", model))

    def price(self, model: str, usage: Usage) -> float | None:
        """What the turn's tokens cost: each model's share at its own rates
        where the usage has shares (sub-agents may use other models), else the
        whole at ``model``'s. None when a model is not in the table."""
        total = 0.0
        for share in usage.models or (_whole(model, usage),):
            priced = self.price_share(share)
            if priced is None:
                return None
            total += priced
        return total

    def price_share(self, share: ModelTokens) -> float | None:
        rates = self.rates(share.model)
        return None if rates is None else _cost(rates, share)

    def disagreements(self, usage: Usage) -> tuple[tuple[ModelTokens, float], ...]:
        """Each model share whose CLI cost and podium's price of its tokens
        ``disagree``, with that price. Only shares are compared: the CLI's
        total covers sub-agents' calls, which its main-loop usage leaves out,
        so a total set against the main loop's tokens would disagree falsely."""
        found = []
        for share in usage.models:
            priced = self.price_share(share)
            if priced is not None and disagree(share.cost_usd, priced):
                found.append((share, priced))
        return tuple(found)


def _whole(model: str, usage: Usage) -> ModelTokens:
    return ModelTokens(
        model=model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_creation_input_tokens=usage.cache_creation_input_tokens,
        cache_creation_1h_input_tokens=usage.cache_creation_1h_input_tokens,
        cache_read_input_tokens=usage.cache_read_input_tokens,
    )


def _cost(rates: Rates, share: ModelTokens) -> float:
    one_hour = share.cache_creation_1h_input_tokens
    five_minutes = share.cache_creation_input_tokens - one_hour
    return (
        share.input_tokens * rates.input
        + share.output_tokens * rates.output
        + five_minutes * rates.cache_write_5m
        + one_hour * rates.cache_write_1h
        + share.cache_read_input_tokens * rates.cache_read
    ) / 1_000_000


def disagree(cli_usd: float, priced_usd: float) -> bool:
    """The two figures for one turn differ by more than ``TOLERANCE`` of the larger."""
    return abs(cli_usd - priced_usd) > TOLERANCE * max(abs(cli_usd), abs(priced_usd))


PRICES = PriceTable.shipped()
