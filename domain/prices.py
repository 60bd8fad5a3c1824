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
from msgspec.structs import replace

from domain.agent_payloads import CostDiscrepancyV1
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

    def priced(self, model: str, usage: Usage) -> tuple[Usage, float | None]:
        """The usage with each model's share priced at its own rates (sub-agents
        may use other models), and the whole turn's price: the sum of the
        shares', or, without shares, the whole at ``model``'s rates. None when
        a model is not in the table."""
        if not usage.models:
            return usage, self.price_share(usage.share(model))
        shares = tuple(replace(s, priced_usd=self.price_share(s)) for s in usage.models)
        prices = [s.priced_usd for s in shares]
        total = None if None in prices else sum(p for p in prices if p is not None)
        return replace(usage, models=shares), total

    def price(self, model: str, usage: Usage) -> float | None:
        return self.priced(model, usage)[1]

    def price_share(self, share: ModelTokens) -> float | None:
        rates = self.rates(share.model)
        return None if rates is None else _cost(rates, share)


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


def disagreements(usage: Usage) -> tuple[ModelTokens, ...]:
    """The priced shares whose CLI cost and podium's price ``disagree``. Only
    shares are compared: the CLI's total covers sub-agents' calls, which its
    main-loop usage leaves out, so a total set against the main loop's tokens
    would disagree where nothing is wrong."""
    return tuple(
        s for s in usage.models if s.priced_usd is not None and disagree(s.cost_usd, s.priced_usd)
    )


def discrepancies(usage: Usage, task: str | None) -> tuple[CostDiscrepancyV1, ...]:
    """What to record of a priced turn (``PriceTable.priced``): a
    CostDiscrepancy for each model's share the CLI and the table price apart."""
    return tuple(
        CostDiscrepancyV1(
            task=task,
            model=share.model,
            cli_cost_usd=share.cost_usd,
            priced_usd=share.priced_usd or 0.0,
            tokens=share,
        )
        for share in disagreements(usage)
    )


PRICES = PriceTable.shipped()
