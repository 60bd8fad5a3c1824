"""The model double, against the real Claude Agent SDK and the real bundled CLI.

HTTP-level tests (httpx) pin the wire format; the SDK tests show that the
real CLI accepts it: costs, thinking, real tool use in a working directory,
an in-process MCP tool in both ToolSearch modes, faults and interrupts.
Nothing here mocks the SDK or the CLI.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    ClaudeSDKClient,
    Message,
    ResultError,
    ResultMessage,
    SystemMessage,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
    create_sdk_mcp_server,
    query,
    tool,
)
from claude_agent_sdk.types import PermissionResultAllow, PermissionResultDeny

from runtime.model_double import (
    DEMO_SCENARIO,
    ModelDouble,
    ScenarioError,
    cli_env,
    load_scenario,
    parse_scenario,
)

MODEL = "claude-sonnet-4-5"
EXAMPLES = Path(__file__).resolve().parent.parent / "runtime" / "model_double" / "examples"

GREETER = parse_scenario(
    {
        "scenario": {"fallback": "No rule for {message}."},
        "rule": [
            {
                "name": "greet",
                "match": r"\bhello,? i am (?P<name>\w+)",
                "step": [{"text": "Hello, {name}!"}],
            },
            {
                "name": "ponder",
                "match": r"\bponder (?P<topic>\w+)",
                "step": [{"thinking": "Pondering {topic} deeply.", "text": "I pondered {topic}."}],
            },
            {
                "name": "tools",
                "match": r"\buse tools\b",
                "step": [
                    {
                        "thinking": "Plan.",
                        "text": "Calling.",
                        "blocks": [{"tool": "lookup", "input": {"key": "{message}", "n": 3}}],
                    }
                ],
            },
        ],
    }
)


@pytest.fixture
def greeter() -> Iterator[ModelDouble]:
    with ModelDouble(GREETER) as double:
        yield double


@pytest.fixture
def demo() -> Iterator[ModelDouble]:
    with ModelDouble() as double:
        yield double


def _options(double: ModelDouble, tmp_path: Path, **overrides: Any) -> ClaudeAgentOptions:
    """Options for a worker-like CLI in tmp_path/work, pointed at the double."""
    env_options = {k: overrides.pop(k) for k in ("tool_search", "max_retries") if k in overrides}
    cwd = tmp_path / "work"
    cwd.mkdir(exist_ok=True)
    settings: dict[str, Any] = {
        "env": cli_env(double, tmp_path / "home", **env_options),
        "cwd": str(cwd),
        "permission_mode": "acceptEdits",
        "allowed_tools": ["Write", "Edit", "Bash", "Read"],
        "model": MODEL,
    }
    settings.update(overrides)
    return ClaudeAgentOptions(**settings)


def _ask(prompt: str, options: ClaudeAgentOptions) -> list[Message]:
    """Every message of one `query()`, up to and including the result."""

    async def collect() -> list[Message]:
        return [message async for message in query(prompt=prompt, options=options)]

    return asyncio.run(collect())


def _blocks(messages: list[Message], kind: type) -> list[Any]:
    return [
        block
        for message in messages
        if isinstance(message, AssistantMessage)
        for block in message.content
        if isinstance(block, kind)
    ]


def _result(messages: list[Message]) -> ResultMessage:
    results = [m for m in messages if isinstance(m, ResultMessage)]
    assert len(results) == 1, messages
    return results[0]


def _post(double: ModelDouble, body: dict[str, Any], path: str = "/v1/messages") -> httpx.Response:
    return httpx.post(double.base_url + path, json=body, timeout=10)


def _request(
    text: str, *, tools: Sequence[str] = (), stream: bool = False, **extra: Any
) -> dict[str, Any]:
    return {
        "model": MODEL,
        "max_tokens": 1000,
        "stream": stream,
        "system": [
            {"type": "text", "text": "You are a test.", "cache_control": {"type": "ephemeral"}}
        ],
        "tools": [
            {"name": name, "description": name, "input_schema": {"type": "object"}}
            for name in tools
        ],
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
        **extra,
    }


def _sse(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for chunk in response.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in chunk.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


# -- scenarios ------------------------------------------------------------------------


def test_demo_and_example_scenarios_load() -> None:
    demo = load_scenario(DEMO_SCENARIO)
    assert demo.info.name == "demo"
    assert {"orchestrator-create-agent", "worker-hello-world"} <= {r.rule.name for r in demo.rules}
    examples = sorted(EXAMPLES.glob("*.toml"))
    assert len(examples) >= 3
    for path in examples:
        assert load_scenario(path).rules


def test_a_bad_scenario_names_the_file_and_the_rule(tmp_path: Path) -> None:
    bad_type = tmp_path / "bad_type.toml"
    bad_type.write_text(
        '[[rule]]\nname = "ok"\n[[rule.step]]\ntext = "hi"\n'
        '[[rule]]\nname = "broken"\n[[rule.step]]\ndelay = "soon"\n'
    )
    with pytest.raises(ScenarioError, match=r"bad_type\.toml: rule 2 \('broken'\).*delay"):
        load_scenario(bad_type)
    bad_regex = tmp_path / "bad_regex.toml"
    bad_regex.write_text('[[rule]]\nname = "paren"\nmatch = "(oops"\n[[rule.step]]\ntext = "x"\n')
    with pytest.raises(ScenarioError, match=r"bad_regex\.toml: rule 1 \('paren'\): bad match"):
        load_scenario(bad_regex)
    unknown_key = tmp_path / "unknown.toml"
    unknown_key.write_text('[[rule]]\nname = "typo"\n[[rule.step]]\ntxet = "x"\n')
    with pytest.raises(ScenarioError, match=r"unknown\.toml: rule 1 \('typo'\).*txet"):
        load_scenario(unknown_key)
    empty_step = tmp_path / "empty.toml"
    empty_step.write_text('[[rule]]\nname = "mute"\n[[rule.step]]\ndelay = 1.0\n')
    with pytest.raises(ScenarioError, match=r"empty\.toml: rule 1 \('mute'\), step 1: has no"):
        load_scenario(empty_step)


# -- the wire format, over plain HTTP -------------------------------------------------


def test_non_streaming_reply_is_one_message(greeter: ModelDouble) -> None:
    response = _post(greeter, _request("hello, I am Ada", model="claude-opus-4-1"))
    assert response.status_code == 200
    message = response.json()
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["id"].startswith("msg_")
    assert message["model"] == "claude-opus-4-1"  # the model asked for
    assert message["content"] == [{"type": "text", "text": "Hello, Ada!"}]
    assert message["stop_reason"] == "end_turn" and message["stop_sequence"] is None
    usage = message["usage"]
    assert usage["output_tokens"] > 0
    assert {"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"} <= set(usage)
    assert greeter.message_requests[-1].rule == "greet"


def test_streaming_reply_follows_the_api_event_sequence(greeter: ModelDouble) -> None:
    body = _request(
        "please use tools",
        tools=["Read", "mcp__kb__lookup"],
        stream=True,
        thinking={"type": "enabled", "budget_tokens": 1000},
    )
    response = _post(greeter, body)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _sse(response)
    names = [name for name, _ in events]
    assert names[:2] == ["message_start", "ping"] and names[-2:] == [
        "message_delta",
        "message_stop",
    ]
    starts = [
        data["content_block"]["type"] for name, data in events if name == "content_block_start"
    ]
    assert starts == ["thinking", "text", "tool_use"]
    deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
    assert [d["type"] for d in deltas if d["type"] != "input_json_delta"] == [
        "thinking_delta",
        "signature_delta",
        "text_delta",
    ]
    pieces = [d["partial_json"] for d in deltas if d["type"] == "input_json_delta"]
    assert len(pieces) >= 2
    assert json.loads("".join(pieces)) == {"key": "please use tools", "n": 3}
    tool_start = next(
        data["content_block"]
        for name, data in events
        if name == "content_block_start" and data["index"] == 2
    )
    assert tool_start["name"] == "mcp__kb__lookup"  # `lookup` resolved against the tools
    final = events[-2][1]
    assert final["delta"]["stop_reason"] == "tool_use"
    assert final["usage"]["output_tokens"] > 1


def test_thinking_is_left_out_unless_the_request_enables_it(greeter: ModelDouble) -> None:
    reply = _post(greeter, _request("ponder tea")).json()
    assert [b["type"] for b in reply["content"]] == ["text"]
    enabled = _request("ponder tea", thinking={"type": "enabled", "budget_tokens": 1024})
    reply = _post(greeter, enabled).json()
    assert [b["type"] for b in reply["content"]] == ["thinking", "text"]
    assert reply["content"][0]["thinking"] == "Pondering tea deeply."


def test_unmatched_message_gets_a_helpful_text(greeter: ModelDouble) -> None:
    reply = _post(greeter, _request("what is the weather")).json()
    assert reply["content"] == [{"type": "text", "text": "No rule for what is the weather."}]


def test_usage_grows_with_the_request_and_reads_the_cache(greeter: ModelDouble) -> None:
    def input_side(usage: dict[str, int]) -> int:
        return sum(
            usage[k]
            for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )

    small = _post(greeter, _request("hello, I am Ada")).json()["usage"]
    large = _post(greeter, _request("hello, I am Ada " + "x" * 40_000)).json()["usage"]
    assert input_side(large) - input_side(small) == pytest.approx(10_000, rel=0.01)
    assert small["cache_creation_input_tokens"] > 0  # the cached system prompt, first seen
    again = _post(greeter, _request("hello, I am Ada")).json()["usage"]
    assert again["cache_read_input_tokens"] > 0 and again["cache_creation_input_tokens"] == 0


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(429, "rate_limit_error"), (500, "api_error"), (529, "overloaded_error")],
)
def test_injected_errors_have_the_api_shape(
    greeter: ModelDouble, status: int, error_type: str
) -> None:
    greeter.fail_next(status, times=2, retry_after=3 if status == 429 else None)
    for _ in range(2):
        response = _post(greeter, _request("hello, I am Ada"))
        assert response.status_code == status
        body = response.json()
        assert body["type"] == "error" and body["error"]["type"] == error_type
        assert body["request_id"] == response.headers["request-id"]
    if status == 429:
        assert response.headers["retry-after"] == "3"
    assert _post(greeter, _request("hello, I am Ada")).status_code == 200


def test_count_tokens_and_other_paths_answer_harmlessly(greeter: ModelDouble) -> None:
    counted = _post(greeter, _request("hello " * 400), "/v1/messages/count_tokens").json()
    assert counted["input_tokens"] > 600
    assert httpx.head(greeter.base_url + "/api/hello").status_code == 200
    assert httpx.get(greeter.base_url + "/v1/models").json() == {}
    assert [r.path for r in greeter.requests] == [
        "/v1/messages/count_tokens",
        "/api/hello",
        "/v1/models",
    ]


def test_stop_cuts_a_slow_stream_at_once() -> None:
    slow = parse_scenario(
        {"rule": [{"name": "slow", "step": [{"text": "x" * 100, "delay": 0.5, "chunk": 1}]}]}
    )

    async def scenario() -> tuple[float, ModelDouble]:
        double = ModelDouble(slow)
        await double.start()
        async with httpx.AsyncClient(timeout=10) as client:
            body = _request("hi", stream=True)
            async with client.stream(
                "POST", double.base_url + "/v1/messages", json=body
            ) as response:
                chunks = response.aiter_bytes()
                assert b"message_start" in await anext(chunks)
                started = time.monotonic()
                await double.stop()
                with pytest.raises(httpx.RemoteProtocolError):
                    async for _ in chunks:
                        pass
                return time.monotonic() - started, double

    took, double = asyncio.run(scenario())
    assert took < 2
    assert not double.requests[0].complete
    with pytest.raises(RuntimeError, match="not started"):
        double.base_url  # noqa: B018


def test_a_scripted_error_is_given_once_per_request(demo: ModelDouble) -> None:
    body = _request("tell me about the overload", tools=["Write", "Edit", "Bash"])
    assert _post(demo, body).status_code == 529
    retried = _post(demo, body)  # the CLI's retry is the same request
    assert retried.status_code == 200
    assert "overloaded for a moment" in retried.json()["content"][0]["text"]


@pytest.mark.parametrize(
    ("said", "tool_name", "tool_input"),
    [
        (
            "Create an agent called alice for Python development",
            "create_agent",
            {
                "name": "alice",
                "system_prompt": "You are alice, an agent for Python development. "
                "Work in your directory and report briefly.",
            },
        ),
        (
            "Tell alice to create a simple hello world app",
            "command_agent",
            {"agent_name": "alice", "command": "create a simple hello world app"},
        ),
        ("list agents", "list_agents", {}),
        ("Check on bob", "check_agent_status", {"agent_name": "bob"}),
        ("interrupt bob", "interrupt_agent", {"agent_name": "bob"}),
        ("Please delete alice.", "delete_agent", {"agent_name": "alice"}),
        ("report cost", "report_cost", {}),
        ("read the system logs", "read_system_logs", {}),
    ],
)
def test_demo_turns_phrasings_into_management_tool_calls(
    demo: ModelDouble, said: str, tool_name: str, tool_input: dict[str, str]
) -> None:
    management = [
        "create_agent",
        "command_agent",
        "list_agents",
        "check_agent_status",
        "interrupt_agent",
        "delete_agent",
        "report_cost",
        "read_system_logs",
    ]
    tools = ["Write", "Edit", "Bash", *(f"mcp__podium__{name}" for name in management)]
    reply = _post(demo, _request(said, tools=tools)).json()
    uses = [b for b in reply["content"] if b["type"] == "tool_use"]
    assert [(u["name"], u["input"]) for u in uses] == [(f"mcp__podium__{tool_name}", tool_input)]
    assert reply["stop_reason"] == "tool_use"


def _tool_turn(name: str, tool_input: dict[str, Any], result: Any) -> list[dict[str, Any]]:
    """An assistant tool call and the user message carrying its result."""
    use_id = f"toolu_{name.lower()}_{len(json.dumps(tool_input))}"
    return [
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": use_id, "name": name, "input": tool_input}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use_id, "content": result}],
        },
    ]


def test_a_script_step_counts_turns_but_not_tool_search_detours(demo: ModelDouble) -> None:
    body = _request(
        "create a simple hello world app", tools=["Write", "Edit", "Bash", "ToolSearch"]
    )
    body["messages"] += _tool_turn("ToolSearch", {"query": "select:Nothing"}, "no match")
    body["messages"] += _tool_turn("Write", {"file_path": "/w/hello.py"}, "File created")
    reply = _post(demo, body).json()
    assert [b["name"] for b in reply["content"] if b["type"] == "tool_use"] == ["Edit"]
    assert demo.message_requests[-1].step == 1


def test_tool_result_rules_are_tried_first(tmp_path: Path) -> None:
    with ModelDouble(EXAMPLES / "worker_script.toml") as double:
        body = _request("write a module for parsing dates", tools=["Write", "Edit", "Bash"])
        body["messages"] += _tool_turn(
            "Bash", {"command": "ls"}, [{"type": "text", "text": "ls: No such file"}]
        )
        reply = _post(double, body).json()
    assert reply["content"] == [
        {"type": "text", "text": "Listing the directory failed: ls: No such file"}
    ]


# -- the real SDK and CLI -------------------------------------------------------------


def test_plain_text_reply_reports_a_real_cost(greeter: ModelDouble, tmp_path: Path) -> None:
    messages = _ask("hello, I am Ada", _options(greeter, tmp_path))
    assert [b.text for b in _blocks(messages, TextBlock)] == ["Hello, Ada!"]
    result = _result(messages)
    assert not result.is_error and result.result == "Hello, Ada!"
    assert result.total_cost_usd is not None and result.total_cost_usd > 0
    request = greeter.message_requests[0]
    assert request.body["model"] == MODEL and request.body["stream"] is True
    assert request.usage is not None and request.usage.cache_creation_input_tokens > 1000


def test_thinking_blocks_reach_the_sdk(greeter: ModelDouble, tmp_path: Path) -> None:
    messages = _ask("ponder tea", _options(greeter, tmp_path))
    assert [b.thinking for b in _blocks(messages, ThinkingBlock)] == ["Pondering tea deeply."]
    assert [b.text for b in _blocks(messages, TextBlock)] == ["I pondered tea."]


def test_worker_writes_edits_and_lists_files(demo: ModelDouble, tmp_path: Path) -> None:
    messages = _ask("create a simple hello world app", _options(demo, tmp_path))
    assert [u.name for u in _blocks(messages, ToolUseBlock)] == ["Write", "Edit", "Bash"]
    hello = tmp_path / "work" / "hello.py"
    assert 'if __name__ == "__main__":' in hello.read_text()  # written, then edited
    result = _result(messages)
    assert not result.is_error and result.num_turns == 4
    assert "hello.py" in (result.result or "")  # the `ls` output, quoted in the final text
    assert [r.step for r in demo.message_requests] == [0, 1, 2, 3]


@pytest.mark.parametrize("tool_search", [True, False], ids=["tool-search", "tools-up-front"])
def test_orchestrator_calls_an_sdk_mcp_tool(
    demo: ModelDouble, tmp_path: Path, tool_search: bool
) -> None:
    created: list[dict[str, Any]] = []

    @tool("create_agent", "Create a worker agent.", {"name": str, "system_prompt": str})
    async def create_agent(args: dict[str, Any]) -> dict[str, Any]:
        created.append(args)
        return {"content": [{"type": "text", "text": f"Agent {args['name']} is ready."}]}

    server = create_sdk_mcp_server("podium", tools=[create_agent])
    options = _options(
        demo,
        tmp_path,
        tool_search=tool_search,
        mcp_servers={"podium": server},
        allowed_tools=["mcp__podium__create_agent"],
    )
    messages = _ask("Create an agent called alice for Python development", options)

    assert [a["name"] for a in created] == ["alice"]
    assert "Python development" in created[0]["system_prompt"]
    result = _result(messages)
    assert result.result == "I created the agent alice. Agent alice is ready."
    called = [name for r in demo.message_requests for name in r.tool_names]
    if tool_search:
        assert called == ["ToolSearch", "mcp__podium__create_agent"]
        search = _blocks(messages, ToolUseBlock)[0]
        assert search.input == {"query": "select:mcp__podium__create_agent", "max_results": 5}
    else:
        assert called == ["mcp__podium__create_agent"]


def test_a_529_is_retried_by_the_cli(demo: ModelDouble, tmp_path: Path) -> None:
    demo.fail_next(529, times=1)
    messages = _ask("write notes about retries", _options(demo, tmp_path))
    retries = [m for m in messages if isinstance(m, SystemMessage) and m.subtype == "api_retry"]
    assert [(r.data["attempt"], r.data["error_status"]) for r in retries] == [(1, 529)]
    assert not _result(messages).is_error
    assert [r.status for r in demo.message_requests[:2]] == [529, 200]


def test_a_lasting_529_ends_the_turn_with_an_error_and_the_session_recovers(
    tmp_path: Path,
) -> None:
    async def scenario() -> tuple[list[Message], list[Message], list[int]]:
        async with ModelDouble(DEMO_SCENARIO) as double:
            double.fail_next(529, times=3)  # the first try and both retries (max_retries=2)
            async with ClaudeSDKClient(_options(double, tmp_path, max_retries=2)) as client:
                await client.query("write notes about outages")
                failed = [m async for m in client.receive_response()]
                await client.query("write notes about recovery")
                recovered = [m async for m in client.receive_response()]
            return failed, recovered, [r.status for r in double.message_requests]

    failed, recovered, statuses = asyncio.run(scenario())
    result = _result(failed)
    assert result.is_error and "529" in (result.result or "")
    retries = [m for m in failed if isinstance(m, SystemMessage) and m.subtype == "api_retry"]
    assert len(retries) == 2
    assert statuses[:3] == [529, 529, 529]
    assert not _result(recovered).is_error


def test_query_raises_after_an_error_result(demo: ModelDouble, tmp_path: Path) -> None:
    """`query()` yields the error ResultMessage, then the SDK raises ResultError."""
    seen: list[Message] = []

    async def collect() -> None:
        async for message in query(prompt="report the outage", options=_options(demo, tmp_path)):
            seen.append(message)

    with pytest.raises(ResultError, match="529"):
        asyncio.run(collect())
    assert _result(seen).is_error
    assert {r.rule for r in demo.message_requests} == {"worker-outage"}


def test_a_slow_stream_can_be_interrupted(demo: ModelDouble, tmp_path: Path) -> None:
    async def scenario() -> tuple[list[Message], list[Message]]:
        async with ClaudeSDKClient(_options(demo, tmp_path)) as client:
            await client.query("do something slow")
            for _ in range(300):  # until the slow stream is under way, however slow the CLI
                if demo.message_requests:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            await client.interrupt()
            interrupted = [m async for m in client.receive_response()]
            await client.query("create a simple hello world app")
            after = [m async for m in client.receive_response()]
        return interrupted, after

    interrupted, after = asyncio.run(scenario())
    assert _result(interrupted).subtype == "error_during_execution"
    slow = demo.message_requests[0]
    assert slow.rule == "worker-slow" and not slow.complete  # the stream was cut
    assert not _result(after).is_error
    assert (tmp_path / "work" / "hello.py").exists()


def test_orchestrator_session_loads_each_management_tool_once(
    demo: ModelDouble, tmp_path: Path
) -> None:
    """Three commands in one session: ToolSearch is used per tool, only when needed."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def management_tool(name: str, schema: dict[str, type]) -> Any:
        @tool(name, f"podium's {name}", schema)
        async def handler(args: dict[str, Any]) -> dict[str, Any]:
            calls.append((name, args))
            return {"content": [{"type": "text", "text": f"{name} ok"}]}

        return handler

    server = create_sdk_mcp_server(
        "podium",
        tools=[
            management_tool("create_agent", {"name": str, "system_prompt": str}),
            management_tool("command_agent", {"agent_name": str, "command": str}),
            management_tool("list_agents", {}),
        ],
    )
    options = _options(
        demo,
        tmp_path,
        mcp_servers={"podium": server},
        allowed_tools=[
            "mcp__podium__create_agent",
            "mcp__podium__command_agent",
            "mcp__podium__list_agents",
        ],
    )

    async def session() -> list[str]:
        results = []
        async with ClaudeSDKClient(options) as client:
            for said in (
                "Create an agent called alice",
                "Tell alice to write tests",
                "Create an agent called bob for reviews",
            ):
                await client.query(said)
                results.append(_result([m async for m in client.receive_response()]).result)
        return [r or "" for r in results]

    results = asyncio.run(session())
    assert [name for name, _ in calls] == ["create_agent", "command_agent", "create_agent"]
    assert calls[1][1] == {"agent_name": "alice", "command": "write tests"}
    assert results[1] == "I sent alice the command. command_agent ok"
    searches = [
        r.reply[0]["input"]["query"]
        for r in demo.message_requests
        if r.tool_names == ["ToolSearch"]
    ]
    assert searches == ["select:mcp__podium__create_agent", "select:mcp__podium__command_agent"]


# -- pages, and tools that ask: WebFetch ----------------------------------------------

SITE = parse_scenario(
    {
        "page": [{"path": "/docs/", "body": "<h1>Docs</h1><p>Use podium up.</p>"}],
        "rule": [{"name": "where", "step": [{"text": "The docs are at {site}/docs/."}]}],
    }
)
# Claude Code asks api.anthropic.com whether a host may be fetched before
# WebFetch fetches it; offline nobody answers, so these CLIs skip the check.
ASKS_FOR_WEB_FETCH = json.dumps(
    {"permissions": {"ask": ["WebFetch"]}, "skipWebFetchPreflight": True}
)


def test_pages_are_checked_when_loaded() -> None:
    page = {"path": "/a", "body": "x"}
    assert parse_scenario({"page": [page]}).pages[0].content_type.startswith("text/html")
    with pytest.raises(ScenarioError, match=r"page 1: path must start with /"):
        parse_scenario({"page": [{"path": "docs", "body": "x"}]})
    with pytest.raises(ScenarioError, match=r"page 2: a second page at '/a'"):
        parse_scenario({"page": [page, page]})
    with pytest.raises(ScenarioError, match=r"page\[0\]"):
        parse_scenario({"page": [{"path": "/a", "body": "x", "title": "typo"}]})


def test_the_site_serves_the_pages_over_https_with_its_own_certificate(tmp_path: Path) -> None:
    with ModelDouble(SITE) as double:
        assert double.site_url is not None and double.certificate is not None
        assert double.site_url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=double.certificate)
        page = httpx.get(f"{double.site_url}/docs/", verify=trusted)
        assert page.status_code == 200 and "Use podium up." in page.text
        assert page.headers["content-type"].startswith("text/html")
        missing = httpx.get(f"{double.site_url}/nope", verify=trusted)
        assert missing.status_code == 404
        served = [(r.path, r.status) for r in double.page_requests]
        assert served == [("/docs/", 200), ("/nope", 404)]
        with pytest.raises(httpx.ConnectError):  # not a certificate anyone else trusts
            httpx.get(f"{double.site_url}/docs/")
        assert _post(double, _request("where?")).json()["content"][0]["text"] == (
            f"The docs are at {double.site_url}/docs/."
        )
        assert cli_env(double, tmp_path)["NODE_EXTRA_CA_CERTS"] == str(double.certificate)
        certificate = double.certificate
    assert not certificate.exists()  # its folder (and key) went with the double


def test_a_double_without_pages_has_no_site(greeter: ModelDouble, tmp_path: Path) -> None:
    assert greeter.site_url is None and greeter.certificate is None
    assert "NODE_EXTRA_CA_CERTS" not in cli_env(greeter, tmp_path)


def _scout(double: ModelDouble, tmp_path: Path, decide: Any) -> ClaudeAgentOptions:
    """A CLI set up like the scout template: WebFetch offered, asked about."""
    return _options(
        double,
        tmp_path,
        model="claude-haiku-4-5",
        tools=["Read", "Glob", "Grep", "Bash", "WebFetch"],
        allowed_tools=["Read", "Glob", "Grep", "Bash"],
        permission_mode="default",
        settings=ASKS_FOR_WEB_FETCH,
        setting_sources=[],
        can_use_tool=decide,
    )


def _scout_turn(
    options: ClaudeAgentOptions,
    prompt: str = "read the documentation, then find the files for: a greeting",
) -> list[Message]:
    async def turn() -> list[Message]:
        async with ClaudeSDKClient(options) as client:
            await client.query(prompt)
            return [message async for message in client.receive_response()]

    return asyncio.run(turn())


def _tool_results(messages: list[Message]) -> list[Any]:
    return [
        block
        for message in messages
        if isinstance(message, UserMessage) and isinstance(message.content, list)
        for block in message.content
        if isinstance(block, ToolResultBlock)
    ]


def test_an_allowed_web_fetch_reads_the_doubles_page(demo: ModelDouble, tmp_path: Path) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    async def allow(tool: str, tool_input: dict[str, Any], _: Any) -> PermissionResultAllow:
        asked.append((tool, tool_input))
        return PermissionResultAllow()

    messages = _scout_turn(_scout(demo, tmp_path, allow))
    ((tool, tool_input),) = asked
    assert tool == "WebFetch" and tool_input["url"] == f"{demo.site_url}/docs/"
    assert [r.path for r in demo.page_requests] == ["/docs/"]  # the CLI fetched it itself
    # ...then asked the double what the page says, and the scout read the answer.
    rules = [r.rule for r in demo.message_requests]
    assert rules == [
        "scout-reads-the-documentation",
        "web-fetch-reads-a-page",
        "scout-read-the-documentation",
    ]
    (result,) = _tool_results(messages)
    assert not result.is_error and "The page says: podium demo documentation" in result.content
    said = "".join(block.text for block in _blocks(messages, TextBlock))
    assert "I read the documentation first. The page says:" in said
    assert not _result(messages).is_error


def test_a_denied_web_fetch_gives_the_scout_the_message(demo: ModelDouble, tmp_path: Path) -> None:
    async def deny(tool: str, tool_input: dict[str, Any], _: Any) -> PermissionResultDeny:
        return PermissionResultDeny(message="not today: work from the code")

    messages = _scout_turn(_scout(demo, tmp_path, deny))
    assert demo.page_requests == []  # nothing was fetched
    (result,) = _tool_results(messages)
    assert result.is_error and result.content == "not today: work from the code"
    said = "".join(block.text for block in _blocks(messages, TextBlock))
    assert 'I could not read the documentation ("not today: work from the code")' in said
    assert not _result(messages).is_error


def test_the_asking_example_reads_its_page_once_allowed(tmp_path: Path) -> None:
    async def allow(tool: str, tool_input: dict[str, Any], _: Any) -> PermissionResultAllow:
        return PermissionResultAllow()

    with ModelDouble(EXAMPLES / "asking.toml") as double:
        messages = _scout_turn(_scout(double, tmp_path, allow), "look up the release notes")
        assert [r.path for r in double.page_requests] == ["/notes"]
    said = "".join(block.text for block in _blocks(messages, TextBlock))
    assert "Here is what I found. The page says:" in said and "approval queue" in said
