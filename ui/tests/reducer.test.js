// node --test ui/tests: the reducer and the timeline on their own, no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import "./served-meta.js";
import { initialState, reduce, chatMessages, agentList } from "../reducer.js";
import { Timeline } from "../timeline.js";
import { spendLine } from "../format.js";

const SESSION = "s-1";
const ALICE = "a-1";
let nextId = 1;
function event(type, payload, { stream = SESSION, agent = null } = {}) {
  return {
    id: nextId++, stream_id: stream, stream_type: stream === SESSION ? "session" : "agent",
    version: 1, type, at: new Date(Date.UTC(2026, 0, 1, 0, 0, nextId)).toISOString(),
    session_id: SESSION, agent, category: "x", summary: `${type} summary`, payload,
  };
}
const usage = (i, o) => ({ input_tokens: i, output_tokens: o });
const log = [
  event("SessionStarted", { title: "t", cwd: "/w", budget_usd: null }),
  event("UserMessageSent", { text: "create alice" }),
  event("AgentCreated", { name: "alice", model: "claude-sonnet-4-5", template: null }, { stream: ALICE, agent: "alice" }),
  event("OrchestratorReplied", { text: "done" }),
  event("TurnCompleted", { usage: usage(10, 5), cost_usd: 0.01 }),
  event("AgentCommanded", { command: "write hello", task: "write-hello", source: "orchestrator" }, { stream: ALICE, agent: "alice" }),
  event("ToolUseRequested", { tool: "Write", tool_use_id: "t1", input: { file_path: "/w/hello.py" } }, { stream: ALICE, agent: "alice" }),
  event("AgentTextEmitted", { text: "writing" }, { stream: ALICE, agent: "alice" }),
  event("ToolUseCompleted", { tool: "Write", tool_use_id: "t1", output: "ok" }, { stream: ALICE, agent: "alice" }),
  event("TurnCompleted", { usage: usage(100, 50), cost_usd: 0.1 }, { stream: ALICE, agent: "alice" }),
];

test("folds the agents, costs and the 3-way chat", () => {
  const state = log.reduce(reduce, initialState());
  assert.equal(state.count, log.length);
  assert.equal(state.position, log.at(-1).id);
  const [alice] = agentList(state);
  assert.equal(alice.name, "alice");
  assert.equal(alice.status, "idle");
  assert.equal(alice.current_task, "write-hello");
  assert.equal(alice.tool_uses, 1);
  assert.equal(alice.input_tokens, 100);
  assert.ok(Math.abs(state.totals.cost_usd - 0.11) < 1e-9);
  assert.deepEqual(chatMessages(state).map((m) => [m.role, m.text]), [
    ["user", "create alice"], ["orchestrator", "done"], ["agent", "writing"],
  ]);
});

test("never mutates a state: an old state stays what it was", () => {
  const states = [initialState()];
  for (const e of log) states.push(reduce(states.at(-1), e));
  const frozen = JSON.stringify(states.slice(0, 7).map((s) => ({ ...s, chat: chatMessages(s) })));
  for (const e of log) reduce(states[6], e);
  assert.equal(JSON.stringify(states.slice(0, 7).map((s) => ({ ...s, chat: chatMessages(s) }))), frozen);
  assert.equal(states[7].agents[ALICE].status, "working");
  assert.equal(states[7].agents[ALICE].current_tool, "Write hello.py");
});

test("the timeline gives the same state as a fold, from any point, in any order", () => {
  const events = [];
  for (let i = 0; i < 40; i++) events.push(...log.map((e) => ({ ...e, id: e.id + i * 100 })));
  const timeline = new Timeline(events, 7);
  const points = [events.length, 0, 13, 399, 7, 8, 6, 250, 251, 1, events.length, 99];
  for (const count of points) {
    const expected = events.slice(0, count).reduce(reduce, initialState());
    const got = timeline.stateAt(count);
    assert.deepEqual({ ...got, chat: chatMessages(got) }, { ...expected, chat: chatMessages(expected) });
  }
});

test("an answer cut short shows in the chat, and a new message resumes the session", () => {
  const cut = [
    event("SessionStarted", { title: "t", cwd: "/w", budget_usd: null }),
    event("UserMessageSent", { text: "slowly think" }),
    event("SessionInterrupted", { reason: "podium is shutting down" }),
  ].reduce(reduce, initialState());
  assert.equal(cut.session.status, "interrupted");
  assert.equal(cut.session.busy, false);
  assert.equal(chatMessages(cut).at(-1).text, "interrupted: podium is shutting down");
  const resumed = [
    event("SessionResumed", { reason: "a new message" }),
    event("UserMessageSent", { text: "where were we?" }),
  ].reduce(reduce, cut);
  assert.equal(resumed.session.status, "active");
  assert.equal(resumed.session.busy, true);
});

// The runtime's event mix: commands wait in the agent's queue, and the worker
// starts each one's turn (or drops the waiting ones), as projections/
// read_models/agents.py folds them.
const BOB = "a-2";
const bob = (type, payload) => event(type, payload, { stream: BOB, agent: "bob" });
const commanded = (task) => bob("AgentCommanded", { command: task, task, source: "user", queued: true });
const started = (task) =>
  bob("AgentStatusChanged", { status: "working", reason: "started", task, started: true, dropped: [] });
const bobCreated = bob("AgentCreated", { name: "bob", model: "claude-sonnet-4-5", template: null });

test("commands wait their turn: the count and the task follow the started turns", () => {
  const steps = [
    [bobCreated, "idle", null, 0],
    [commanded("one"), "queued", null, 1],
    [commanded("two"), "queued", null, 2],
    [started("one"), "working", "one", 1],
    [commanded("three"), "working", "one", 2],
    [bob("TurnCompleted", { usage: usage(1, 1), cost_usd: 0.01 }), "queued", "one", 2],
    [started("two"), "working", "two", 1],
    [bob("TurnCompleted", { usage: usage(1, 1), cost_usd: 0.01 }), "queued", "two", 1],
    [started("three"), "working", "three", 0],
    [bob("TurnCompleted", { usage: usage(1, 1), cost_usd: 0.01 }), "idle", "three", 0],
  ];
  let state = initialState();
  for (const [e, status, task, queued] of steps) {
    state = reduce(state, e);
    const { status: s, current_task: t, queued: q } = state.agents[BOB];
    assert.deepEqual([e.type, s, t, q], [e.type, status, task, queued]);
  }
});

test("dropped commands leave the count, and the status is the change's", () => {
  const dropped = (status, tasks) =>
    bob("AgentStatusChanged", { status, reason: "dropped", task: "one", started: false, dropped: tasks });
  const state = [
    bobCreated, commanded("one"), commanded("two"), commanded("three"), started("one"),
    dropped("working", ["two", "three"]),
  ].reduce(reduce, initialState());
  assert.deepEqual([state.agents[BOB].status, state.agents[BOB].queued], ["working", 0]);
  const waiting = [bobCreated, commanded("one"), commanded("two"), dropped("idle", ["one", "two"])]
    .reduce(reduce, initialState());
  assert.deepEqual([waiting.agents[BOB].status, waiting.agents[BOB].queued], ["idle", 0]);
});

test("a command recorded before the queue existed (queued false) started its turn at once", () => {
  const state = [bobCreated, bob("AgentCommanded", { command: "old", task: "old", source: "user", queued: false })]
    .reduce(reduce, initialState());
  const { status, current_task, queued } = state.agents[BOB];
  assert.deepEqual([status, current_task, queued], ["working", "old", 0]);
});

test("a turn's cache tokens, podium's price and a cost discrepancy reach the agent and the totals", () => {
  const turn = {
    usage: { input_tokens: 4, output_tokens: 163, cache_read_input_tokens: 61000, cache_creation_input_tokens: 8046 },
    cost_usd: 0.0833,
    priced_usd: 0.0831,
  };
  const state = [
    ...log,
    event("TurnCompleted", turn, { stream: ALICE, agent: "alice" }),
    event("CostDiscrepancy", { model: "claude-haiku-4-5", cli_cost_usd: 0.03, priced_usd: 0.01 }, { stream: ALICE, agent: "alice" }),
  ].reduce(reduce, initialState());
  const [alice] = agentList(state);
  assert.equal(alice.cache_read_input_tokens, 61000);
  assert.equal(alice.cache_creation_input_tokens, 8046);
  assert.equal(alice.turns, 2);
  assert.equal(alice.unpriced_turns, 1); // the first turn had no price
  assert.equal(alice.discrepancies, 1);
  assert.equal(state.totals.discrepancies, 1);
  assert.equal(state.totals.cache_read_input_tokens, 61000);
  assert.equal(spendLine(alice), "104 in · 213 out · 69k cache · $0.1833 · 2 turns · priced $0.0831 · ⚠ 1 cost discrepancy");
});
