// node --test ui/tests: the summarizer's events folded by the one reducer
// (live and replay alike), with events shaped as domain/summarizer.py records them.
import { test } from "node:test";
import assert from "node:assert/strict";
import "./served-meta.js";
import { initialState, reduce, aiSummary, agentList, chatMessages } from "../reducer.js";
import { Timeline } from "../timeline.js";
import { summarizerLine, summarizerDetail } from "../format.js";

const SESSION = "5e55a0f0-0000-4000-8000-000000000001";
const ALICE = "a11ce000-0000-4000-8000-000000000002";
const BOB = "b0b00000-0000-4000-8000-000000000003";
const SUMMARIES = "50aa0000-0000-4000-8000-000000000004";

let nextId = 1;
function event(type, payload, stream = SESSION, agent = null) {
  const streamType = stream === SESSION ? "session" : stream === SUMMARIES ? "summarizer" : "agent";
  const category = stream === SUMMARIES ? "summary" : "x";
  return {
    id: nextId++, stream_id: stream, stream_type: streamType, version: 1, type,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, nextId)).toISOString(),
    session_id: SESSION, agent, category, summary: `${type} (mechanical)`, payload,
  };
}
const alice = (type, payload) => event(type, payload, ALICE, "alice");
const bob = (type, payload) => event(type, payload, BOB, "bob");
const summarized = (of, agentId, summary) =>
  event("EventSummarized", { v: 1, notification_id: of.id, agent_id: agentId, session_id: SESSION, summary }, SUMMARIES);
const called = (usage, pricedUsd, events = 2) => event("SummarizerCalled", {
  v: 1, session_id: SESSION, model: "claude-haiku-4-5", priced_usd: pricedUsd, events, duration_ms: 800,
  usage: { cache_creation_1h_input_tokens: 0, models: [], ...usage },
}, SUMMARIES);
const failed = (error, attempt) =>
  event("SummarizerFailed", { v: 1, session_id: SESSION, error, events: 2, attempt, retry_in_s: 4.0 }, SUMMARIES);
const tokens = (input, output, read = 0, written = 0) => ({
  input_tokens: input, output_tokens: output, cache_read_input_tokens: read, cache_creation_input_tokens: written,
});

const started = event("SessionStarted", { title: "t", cwd: "/w", budget_usd: null });
const aliceCreated = alice("AgentCreated", { name: "alice", model: "claude-sonnet-4-5", template: null });
const bobCreated = bob("AgentCreated", { name: "bob", model: "claude-sonnet-4-5", template: null });
const said = alice("AgentTextEmitted", { text: "I will write hello.py" });
const wrote = alice("FileChanged", { v: 2, task: "t", path: "/w/hello.py", change: "created", diff: "+x\n" });
const turn = alice("TurnCompleted", { usage: tokens(100, 10), cost_usd: 0.1, priced_usd: 0.1 });
const bobSaid = bob("AgentTextEmitted", { text: "hi" });
const opened = event("SummariesOpened", { v: 1, session_id: SESSION }, SUMMARIES);
const log = [
  started, aliceCreated, bobCreated, said, wrote, turn, bobSaid, opened,
  summarized(wrote, ALICE, "Created hello.py printing a greeting"),
  called(tokens(1200, 40, 300, 50), 0.0021),
  failed("the model is overloaded", 1),
  summarized(said, ALICE, "Announced writing hello.py"), // older than the card's: the card keeps the newer
  summarized(bobSaid, BOB, "Said hello"),
  called(tokens(800, 30), null, 1), // a model podium's table has no price for
];
const at = (type, n = 0) => log.filter((e) => e.type === type)[n];
const countThrough = (e) => log.indexOf(e) + 1;

test("an event shows its AI summary once the summary is made, not before", () => {
  const before = log.slice(0, countThrough(at("EventSummarized")) - 1).reduce(reduce, initialState());
  assert.equal(aiSummary(before, wrote.id), null);
  const after = reduce(before, at("EventSummarized"));
  assert.equal(aiSummary(after, wrote.id), "Created hello.py printing a greeting");
  assert.equal(aiSummary(after, said.id), null);
  const end = log.reduce(reduce, initialState());
  assert.equal(aiSummary(end, said.id), "Announced writing hello.py");
  assert.equal(aiSummary(end, turn.id), null); // never summarized: the mechanical summary stays
  assert.equal(aiSummary(end, 10 ** 12), null);
});

test("each agent's card has the summary of its latest event summarized", () => {
  const end = log.reduce(reduce, initialState());
  const [a, b] = agentList(end);
  assert.deepEqual(a.summary, { text: "Created hello.py printing a greeting", of: wrote.id });
  assert.deepEqual(b.summary, { text: "Said hello", of: bobSaid.id });
  // A summary is not the agent's activity, and an unknown agent's is kept for its event only.
  assert.equal(a.last_activity_at, turn.at);
  const stranger = reduce(end, summarized(turn, "00000000-0000-4000-8000-0000000000ff", "Finished"));
  assert.equal(aiSummary(stranger, turn.id), "Finished");
  assert.equal(stranger.agents, end.agents);
});

test("the summarizer's spend is its own: calls, tokens, podium's price; failures until a call works", () => {
  const failing = log.slice(0, countThrough(at("SummarizerFailed"))).reduce(reduce, initialState());
  assert.equal(failing.summarizer.turns, 1);
  assert.deepEqual(failing.summarizer.failure,
    { error: "the model is overloaded", attempt: 1, retry_in_s: 4.0, at: at("SummarizerFailed").at });
  assert.match(summarizerLine(failing.summarizer), /⚠ failing$/);
  assert.match(summarizerDetail(failing.summarizer), /failing: the model is overloaded \(attempt 1, again in 4s\)/);

  const end = log.reduce(reduce, initialState());
  const spent = end.summarizer;
  assert.equal(spent.turns, 2);
  assert.equal(spent.input_tokens, 2000);
  assert.equal(spent.output_tokens, 70);
  assert.equal(spent.cache_read_input_tokens, 300);
  assert.equal(spent.cache_creation_input_tokens, 50);
  assert.ok(Math.abs(spent.priced_usd - 0.0021) < 1e-12);
  assert.equal(spent.unpriced_turns, 1);
  assert.equal(spent.cost_usd, 0);
  assert.equal(spent.failures, 1);
  assert.equal(spent.failure, null); // the next call worked
  assert.equal(summarizerLine(spent), "summaries · 2 calls · 2000 in · 70 out · $0.0021");
  assert.match(summarizerDetail(spent), /cache read 300 · cache written 50\npodium's price \$0\.0021 \(1 call unpriced\)\n1 failed call$/);
  // The agents' spend is theirs alone.
  assert.equal(end.totals.input_tokens, 100);
  assert.equal(end.totals.turns, 1);
  assert.equal(agentList(end)[0].input_tokens, 100);
});

test("replay shows the same summaries at any point: the timeline is the fold", () => {
  const events = [];
  for (let round = 0; round < 30; round++) {
    const offset = round * 1000;
    events.push(...log.map((e) => {
      const p = e.type === "EventSummarized" ? { ...e.payload, notification_id: e.payload.notification_id + offset } : e.payload;
      return { ...e, id: e.id + offset, payload: p };
    }));
  }
  const timeline = new Timeline(events, 9);
  for (const count of [events.length, 0, 9, 17, 200, 18, 211, 1, 100, events.length - 3, 57]) {
    const expected = events.slice(0, count).reduce(reduce, initialState());
    const got = timeline.stateAt(count);
    assert.deepEqual({ ...got, chat: chatMessages(got) }, { ...expected, chat: chatMessages(expected) });
    for (const e of events.slice(0, count)) assert.equal(aiSummary(got, e.id), aiSummary(expected, e.id));
  }
});

test("a summary never changes an earlier state", () => {
  const states = [initialState()];
  for (const e of log) states.push(reduce(states.at(-1), e));
  const frozen = JSON.stringify(states.map((s) => ({ ...s, chat: chatMessages(s) })));
  for (const e of log) reduce(states[9], e);
  for (let k = 0; k < states.length; k++) {
    reduce(states[k], summarized(turn, ALICE, "Overwritten?"));
  }
  assert.equal(JSON.stringify(states.map((s) => ({ ...s, chat: chatMessages(s) }))), frozen);
  assert.equal(aiSummary(states[8], wrote.id), null);
});
