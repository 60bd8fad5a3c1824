"""Costs that reconcile, end to end: the real SDK and its bundled CLI against
the model double (which reports cache writes and reads as the API does),
real PostgreSQL. A turn's tokens cost what podium's price table says; a turn
the CLI prices otherwise is a CostDiscrepancy; the read models count cache
tokens and sub-agents' models."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest

from domain.events import ModelTokens, Usage
from domain.prices import PRICES, disagree
from gateway.system import System
from tests.test_runtime import config, rows, start, until

pytestmark = pytest.mark.anyio

SCENARIO = Path(__file__).parent / "scenarios" / "costs.toml"


@pytest.fixture
async def system(database_url: str, tmp_path: Path) -> AsyncIterator[System]:
    with_scenario = dataclasses.replace(config(database_url, tmp_path), scenario=SCENARIO)
    async with System(with_scenario) as running:
        yield running


async def turn_of(system: System, session_id: UUID, name: str, command: str) -> dict[str, Any]:
    """Command the agent and wait for its turn's TurnCompleted payload."""
    task = await asyncio.to_thread(system.app.command_agent, session_id, name, command, "user")
    ((payload,),) = await until(
        system,
        "SELECT payload FROM events WHERE event_type = 'TurnCompleted' "
        "AND payload->>'task' = %s AND session_id = %s",
        task,
        session_id,
    )
    assert not payload["is_error"], payload
    return dict(payload)


def usage(payload: dict[str, Any]) -> Usage:
    return msgspec.convert(payload["usage"], Usage)


async def test_a_turn_with_cache_tokens_costs_what_the_price_table_says(system: System) -> None:
    session_id = await start(system)
    await asyncio.to_thread(system.app.create_agent, session_id, "ann")
    first = await turn_of(system, session_id, "ann", "remember the milk")
    second = await turn_of(system, session_id, "ann", "remember the eggs")
    for turn in (first, second):
        tokens = usage(turn)
        priced = PRICES.price(turn["model"], tokens)
        assert priced is not None and turn["priced_usd"] == pytest.approx(priced)
        assert not disagree(turn["cost_usd"], turn["priced_usd"]), turn
        assert [share.model for share in tokens.models] == ["claude-sonnet-4-5"]
    assert usage(first).cache_creation_input_tokens > 0  # the CLI's prompt, first seen
    assert usage(second).cache_read_input_tokens > 0  # ... then read from the cache

    (agent,) = await until(
        system,
        "SELECT turns, cache_creation_input_tokens, cache_read_input_tokens, cost_usd, "
        "priced_usd, discrepancies FROM agents WHERE session_id = %s AND turns = 2",
        session_id,
    )
    both = (usage(first), usage(second))
    assert agent[1:3] == (
        sum(u.cache_creation_input_tokens for u in both),
        sum(u.cache_read_input_tokens for u in both),
    )
    logged = sum(Decimal(repr(t["cost_usd"])) for t in (first, second))
    assert agent[3] == logged  # the CLI's cost, as the budget counts it
    assert agent[4] == sum(Decimal(repr(t["priced_usd"])) for t in (first, second))
    assert agent[5] == 0
    (day,) = await rows(
        system,
        "SELECT count(*), sum(turns), sum(cache_creation_input_tokens), "
        "sum(cache_read_input_tokens), sum(cost_usd), sum(priced_usd) FROM costs "
        "WHERE session_id = %s AND actor_name = 'ann'",
        session_id,
    )
    assert day == (1, 2, *agent[1:5])  # one row: one agent, one model, one day (UTC)
    assert not await rows(system, "SELECT 1 FROM events WHERE event_type = 'CostDiscrepancy'")


async def test_a_turn_the_cli_prices_at_the_wrong_rates_is_a_cost_discrepancy(
    system: System,
) -> None:
    """The CLI no longer has Claude 3 Opus's rates and prices its turns far
    lower than they cost; podium's table has the real ones."""
    session_id = await start(system)
    model = "claude-3-opus-20240229"
    await asyncio.to_thread(system.app.create_agent, session_id, "olga", model=model)
    turn = await turn_of(system, session_id, "olga", "remember the milk")
    ((found,),) = await until(
        system,
        "SELECT payload FROM events WHERE event_type = 'CostDiscrepancy' AND session_id = %s",
        session_id,
    )
    assert found["model"] == model and found["task"] == turn["task"]
    assert found["cli_cost_usd"] == pytest.approx(turn["cost_usd"])
    tokens = msgspec.convert(found["tokens"], ModelTokens)
    assert tokens.input_tokens == usage(turn).input_tokens and tokens.cache_creation_input_tokens
    assert found["priced_usd"] == pytest.approx(PRICES.price_share(tokens))
    assert found["priced_usd"] > 2 * found["cli_cost_usd"]  # the CLI's rates are far lower
    await until(
        system,
        "SELECT discrepancies FROM costs WHERE session_id = %s AND model = %s",
        session_id,
        model,
    )


async def test_a_sub_agents_model_is_counted_under_its_own_name(system: System) -> None:
    session_id = await start(system)
    await asyncio.to_thread(system.app.create_agent, session_id, "sam")
    turn = await turn_of(system, session_id, "sam", "delegate: count the spoons")
    models = {share.model: share for share in usage(turn).models}
    # The sub-agent asked for "haiku": the CLI resolves it to its haiku of the day.
    (helper,) = set(models) - {"claude-sonnet-4-5"}
    assert "haiku" in helper and models[helper].output_tokens > 0, models
    assert turn["cost_usd"] == pytest.approx(sum(s.cost_usd for s in models.values()))
    assert turn["priced_usd"] == pytest.approx(PRICES.price(turn["model"], usage(turn)))
    found = await until(
        system,
        "SELECT count(*), array_agg(model ORDER BY model), sum(input_tokens), "
        "sum(cache_read_input_tokens), sum(cost_usd) FROM costs WHERE session_id = %s "
        "AND actor_name = 'sam' HAVING count(*) = 2",
        session_id,
    )
    assert found[0][1] == [helper, "claude-sonnet-4-5"]
    assert found[0][2] == usage(turn).input_tokens
    assert found[0][3] == usage(turn).cache_read_input_tokens
    assert found[0][4] == Decimal(repr(turn["cost_usd"]))  # the parts sum to the turn exactly


async def test_one_hour_cache_writes_are_priced_at_their_own_rate(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claude Code writes its prompt cache for an hour when told to: those
    writes cost more than 5-minute ones, and the CLI and podium agree on it."""
    monkeypatch.setenv("ENABLE_PROMPT_CACHING_1H", "1")
    with_scenario = dataclasses.replace(config(database_url, tmp_path), scenario=SCENARIO)
    async with System(with_scenario) as system:
        session_id = await start(system)
        await asyncio.to_thread(system.app.create_agent, session_id, "hal")
        turn = await turn_of(system, session_id, "hal", "remember the milk")
    tokens = usage(turn)
    assert tokens.cache_creation_1h_input_tokens > 0, tokens
    as_if_5m = msgspec.structs.replace(tokens, cache_creation_1h_input_tokens=0, models=())
    assert turn["priced_usd"] > PRICES.price(turn["model"], as_if_5m)
    assert not disagree(turn["cost_usd"], turn["priced_usd"]), turn
