"""Pricing a turn's tokens (domain/prices.py), the 1% rule, a turn's share of
the CLI's running totals (runtime/turns.py), and the events an agent records
for them. No PostgreSQL, no CLI: the SDK's ResultMessage is only data here."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest
from claude_agent_sdk import ResultMessage
from eventsourcing.utils import get_topic

from domain import agent as a
from domain import session as s
from domain.agent import Agent
from domain.agent_rules import TurnReport
from domain.codec import state_decoder
from domain.events import ModelTokens, Usage
from domain.prices import PRICES, PriceTable, disagree
from domain.session import Session
from runtime.turns import TurnCosts, usage_of

MILLION = 1_000_000


def test_every_kind_of_token_has_its_own_rate() -> None:
    usage = Usage(
        input_tokens=MILLION,
        output_tokens=MILLION,
        cache_creation_input_tokens=3 * MILLION,  # 2 M for 5 minutes, 1 M for an hour
        cache_creation_1h_input_tokens=MILLION,
        cache_read_input_tokens=MILLION,
    )
    # Sonnet 4.5: $3 in, $15 out, $3.75 per 5-minute write, $6 per 1-hour write, $0.30 read.
    assert PRICES.price("claude-sonnet-4-5", usage) == pytest.approx(3 + 15 + 7.5 + 6 + 0.3)
    assert PRICES.price("claude-haiku-4-5", usage) == pytest.approx(1 + 5 + 2.5 + 2 + 0.1)
    assert PRICES.price("claude-opus-4-1", usage) == pytest.approx(15 + 75 + 37.5 + 30 + 1.5)


def test_a_model_is_found_by_its_dated_id_and_an_unknown_one_is_not_priced() -> None:
    assert PRICES.rates("claude-sonnet-4-5-20250929") == PRICES.rates("claude-sonnet-4-5")
    assert PRICES.rates("claude-opus-4-20250514") == PRICES.rates("claude-opus-4-1")
    assert PRICES.rates("claude-sonnet-4-5[1m]") == PRICES.rates("claude-sonnet-4-5")
    assert PRICES.rates("claude-opus-4-9") is None  # not taken for claude-opus-4's
    assert PRICES.price("gpt-5", Usage(input_tokens=10)) is None


def test_each_models_share_is_priced_at_its_own_rates() -> None:
    usage = Usage(
        input_tokens=2 * MILLION,
        models=(
            ModelTokens(model="claude-sonnet-4-5", input_tokens=MILLION),
            ModelTokens(model="claude-haiku-4-5", input_tokens=MILLION),  # a sub-agent's
        ),
    )
    priced, total = PRICES.priced("claude-sonnet-4-5", usage)
    assert total == pytest.approx(3 + 1)
    assert [s.priced_usd for s in priced.models] == pytest.approx([3, 1])
    unknown = Usage(models=(ModelTokens(model="claude-opus-4-9", input_tokens=1),))
    assert PRICES.priced("claude-sonnet-4-5", unknown)[1] is None


def test_the_one_percent_rule() -> None:
    assert not disagree(1.0, 1.0099)
    assert disagree(1.0, 1.0102)
    assert disagree(0.0, 0.0001)
    assert not disagree(0.0, 0.0)


def test_a_price_table_is_data_and_a_malformed_one_is_refused() -> None:
    table = PriceTable.parse(
        "[models.m]\ninput = 1\noutput = 2\ncache_write_5m = 3\ncache_write_1h = 4\n"
        "cache_read = 5\n"
    )
    assert table.price("m", Usage(output_tokens=MILLION)) == 2
    with pytest.raises(msgspec.ValidationError, match="missing required field `cache_write_1h`"):
        PriceTable.parse("[models.m]\ninput = 1\noutput = 2\ncache_write_5m = 3\n")


def result(cost: float, models: dict[str, dict[str, Any]], **usage: Any) -> ResultMessage:
    return ResultMessage(
        subtype="success",
        duration_ms=5,
        duration_api_ms=4,
        is_error=False,
        num_turns=1,
        session_id="c",
        total_cost_usd=cost,
        usage=usage,
        model_usage=models,  # type: ignore[arg-type]
    )


def sonnet(tokens: int, cost: float, one_hour: int = 0) -> dict[str, Any]:
    return {
        "inputTokens": tokens,
        "outputTokens": tokens,
        "cacheCreationInputTokens": tokens,
        "cacheCreationEphemeral1hInputTokens": one_hour,
        "cacheReadInputTokens": tokens,
        "costUSD": cost,
    }


def test_a_turns_share_of_the_processs_running_totals_sub_agents_included() -> None:
    costs = TurnCosts()
    first = costs.report(result(0.5, {"claude-sonnet-4-5": sonnet(100, 0.5, one_hour=40)}))
    assert first.cost_usd == 0.5
    assert first.usage.cache_creation_1h_input_tokens == 40
    second = costs.report(
        result(
            0.9,
            {
                "claude-sonnet-4-5": sonnet(150, 0.7, one_hour=40),
                "claude-haiku-4-5": sonnet(10, 0.2),
            },
        )
    )
    assert second.cost_usd == pytest.approx(0.4)
    assert second.usage.input_tokens == 60  # 50 more of the main model's, 10 of a sub-agent's
    assert [
        (s.model, s.input_tokens, s.cache_creation_1h_input_tokens) for s in second.usage.models
    ] == [
        ("claude-sonnet-4-5", 50, 0),
        ("claude-haiku-4-5", 10, 0),
    ]
    assert [s.cost_usd for s in second.usage.models] == pytest.approx([0.2, 0.2])
    costs.restart()  # a new process: its totals start from zero again
    third = costs.report(result(0.1, {"claude-sonnet-4-5": sonnet(20, 0.1)}))
    assert (third.cost_usd, third.usage.input_tokens) == (0.1, 20)


def test_without_model_usage_the_main_loops_usage_is_the_turns() -> None:
    reported = result(
        0.1,
        {},
        input_tokens=3,
        output_tokens=4,
        cache_creation_input_tokens=50,
        cache_read_input_tokens=6,
        cache_creation={"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 30},
    )
    usage = usage_of(reported)
    assert (usage.cache_creation_5m_input_tokens, usage.cache_creation_1h_input_tokens) == (20, 30)
    assert TurnCosts().report(reported).usage == usage


def finished(usage: Usage, cost_usd: float) -> Agent:
    agent = Agent.create(uuid.uuid4(), "alice")
    agent.command("task")
    agent.start_turn()
    agent.finish_turn(
        TurnReport(
            usage=usage, cost_usd=cost_usd, duration_ms=1, num_turns=1, claude_session_id="c"
        )
    )
    return agent


def share(cost_usd: float) -> ModelTokens:
    # $3 of input and $15 of output at Sonnet 4.5's rates.
    return ModelTokens(
        model="claude-sonnet-4-5", input_tokens=MILLION, output_tokens=MILLION, cost_usd=cost_usd
    )


def test_a_turn_records_the_clis_cost_and_podiums_price_and_they_agree() -> None:
    agent = finished(Usage(input_tokens=MILLION, output_tokens=MILLION, models=(share(18),)), 18)
    (turn,) = [e for e in agent.collect_events() if isinstance(e, a.TurnCompleted)]
    assert (turn.payload.cost_usd, turn.payload.priced_usd) == (18, pytest.approx(18))
    assert agent.cost_usd == 18  # the budget's figure stays the CLI's


def test_a_share_the_cli_priced_otherwise_is_a_cost_discrepancy() -> None:
    wrong = share(90)  # at Opus 4.1's rates
    agent = finished(Usage(input_tokens=MILLION, output_tokens=MILLION, models=(wrong,)), 90)
    events = agent.collect_events()
    assert [type(e).__name__ for e in events][-2:] == ["TurnCompleted", "CostDiscrepancy"]
    found = events[-1].payload
    assert isinstance(found, a.CostDiscrepancyV1)
    assert (found.model, found.cli_cost_usd, found.priced_usd) == (
        "claude-sonnet-4-5",
        90,
        pytest.approx(18),
    )
    assert found.tokens == msgspec.structs.replace(wrong, priced_usd=found.priced_usd)


def test_a_turn_recorded_before_podium_priced_turns_is_read_unpriced() -> None:
    old = a.AgentTurnCompletedV1(
        task="t",
        model="claude-sonnet-4-5",
        usage=Usage(input_tokens=1, cache_creation_input_tokens=2),
        cost_usd=0.1,
        duration_ms=1,
        num_turns=1,
        claude_session_id="c",
    )
    state = msgspec.json.encode({"timestamp": "2026-12-02T05:00:00+00:00", "payload": old})
    read = state_decoder(get_topic(a.TurnCompleted)).decode(state).payload
    assert isinstance(read, a.AgentTurnCompletedV2) and read.priced_usd is None
    assert read.usage.cache_creation_5m_input_tokens == 2  # all 5-minute, the default


def test_the_orchestrators_turn_is_priced_and_a_wrong_cli_figure_is_a_discrepancy() -> None:
    session = Session.start("priced", "/work")
    shares = (
        ModelTokens(model="claude-sonnet-4-5", input_tokens=MILLION, cost_usd=3.0),
        ModelTokens(model="claude-haiku-4-5", input_tokens=MILLION, cost_usd=3.0),  # haiku's at 1
    )
    session.complete_turn(
        Usage(input_tokens=2 * MILLION, models=shares),
        cost_usd=6.0,
        duration_ms=10,
        num_turns=1,
        claude_session_id="cs",
        model="claude-sonnet-4-5",
    )
    turn, discrepancy = session.collect_events()[-2:]
    assert isinstance(turn, s.TurnCompleted) and turn.payload.priced_usd == pytest.approx(4)
    assert isinstance(discrepancy, s.CostDiscrepancy)
    assert (discrepancy.payload.model, discrepancy.payload.priced_usd) == ("claude-haiku-4-5", 1)
    old = s.SessionTurnCompletedV1(
        usage=Usage(), cost_usd=0, duration_ms=0, num_turns=0, claude_session_id="", model="m"
    )
    assert old.upcast().priced_usd is None
