// node --test ui/tests: the approval queue's order, words and keys, and how the
// reducer folds requests, decisions and budgets; no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import "./served-meta.js";
import { queueOrder, decidedNewestFirst, outcomeLabel, shortcutOf, SHORTCUTS_HELP } from "../approvals.js";
import { initialState, reduce, pendingApprovals, agentList } from "../reducer.js";
import { toolLine } from "../agents.js";

const SESSION = "s-1";
const SAM = "a-1";
let nextId = 1;
function event(type, payload, stream, streamType) {
  const id = nextId++;
  return {
    id, stream_id: stream, stream_type: streamType, version: 1, type,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, id)).toISOString(), session_id: SESSION,
    agent: streamType === "agent" ? "sam" : null, category: "x", summary: type, payload,
  };
}
const onSession = (type, payload) => event(type, payload, SESSION, "session");
const onSam = (type, payload) => event(type, payload, SAM, "agent");
const onApproval = (id, type, payload) => event(type, payload, id, "approval");
const asks = (id, tool, input) => onApproval(id, "ApprovalRequested", {
  agent_id: SAM, session_id: SESSION, agent: "sam", task: "hello", tool, tool_use_id: `t-${id}`, input, rule: "",
});

const started = [
  onSession("SessionStarted", { title: "t", cwd: "/w", budget_usd: 2 }),
  onSam("AgentCreated", { name: "sam", model: "m", template: null, budget_usd: 1 }),
];

test("the queue is oldest first, whatever order the requests came in", () => {
  const rows = [
    { id: "c", notification_id: 30, requested_at: "2026-01-01T00:00:03Z" },
    { id: "a", notification_id: 10, requested_at: "2026-01-01T00:00:01Z" },
    { id: "b", notification_id: 20, requested_at: "2026-01-01T00:00:02Z" },
  ];
  assert.deepEqual(queueOrder(rows).map((r) => r.id), ["a", "b", "c"]);
  assert.deepEqual(rows.map((r) => r.id), ["c", "a", "b"]); // not sorted in place
  const decided = [
    { id: "x", status: "granted", decided_at: "2026-01-01T00:00:05Z" },
    { id: "y", status: "pending", decided_at: null },
    { id: "z", status: "denied", decided_at: "2026-01-01T00:00:09Z" },
  ];
  assert.deepEqual(decidedNewestFirst(decided).map((r) => r.id), ["z", "x"]);
});

test("an outcome says what came of a request, and by whom", () => {
  const base = { agent: "sam", decided_by: "user", message: null };
  assert.equal(outcomeLabel({ ...base, status: "granted", scope: "once" }), "allowed once by user");
  assert.equal(outcomeLabel({ ...base, status: "granted", scope: "agent" }), "always allowed for sam by user");
  assert.equal(outcomeLabel({ ...base, status: "granted", scope: "session" }), "always allowed in the session by user");
  assert.equal(outcomeLabel({ ...base, status: "denied", message: "not now" }), "denied by user: not now");
  assert.equal(outcomeLabel({ ...base, status: "expired", decided_by: null, message: "nobody decided" }), "expired: nobody decided");
});

test("the keys: a allow once, A always, d deny, j/k move, and the help names each", () => {
  assert.deepEqual(["a", "A", "d", "j", "k", "Escape", "x"].map(shortcutOf),
    ["once", "always", "deny", "next", "previous", "close", null]);
  for (const key of ["a:", "A:", "d:", "j:", "k:", "q:"]) assert.ok(SHORTCUTS_HELP.includes(key), key);
});

test("a request waits in the state, shows on the agent's card, and its decision ends that", () => {
  const asked = [
    ...started,
    onSam("AgentStatusChanged", { status: "awaiting approval", reason: "Bash waits for approval", task: "hello", started: false, dropped: [] }),
    asks("r1", "Bash", { command: "ls" }),
  ].reduce(reduce, initialState());
  const [request] = pendingApprovals(asked);
  assert.deepEqual([request.id, request.agent, request.tool, request.input.command, request.status],
    ["r1", "sam", "Bash", "ls", "pending"]);
  const [sam] = agentList(asked);
  assert.equal(toolLine(sam), "⏸ asks to use Bash ls");

  const granted = reduce(asked, onApproval("r1", "ApprovalGranted", { scope: "agent", by: "user" }));
  assert.deepEqual(pendingApprovals(granted), []);
  const decided = granted.approvals.r1;
  assert.deepEqual([decided.status, decided.scope, decided.decided_by], ["granted", "agent", "user"]);
  assert.equal(granted.agents[SAM].awaiting, null);
  assert.equal(asked.approvals.r1.status, "pending"); // the earlier state is as it was: replay shows it

  const denied = [asks("r2", "Write", { file_path: "/w/x" }), onApproval("r2", "ApprovalDenied", { message: "no", by: "user" }),
    asks("r3", "Bash", { command: "rm" }), onApproval("r3", "ApprovalExpired", { reason: "nobody decided" })]
    .reduce(reduce, granted);
  assert.deepEqual(Object.values(denied.approvals).map((a) => [a.id, a.status, a.message]),
    [["r1", "granted", null], ["r2", "denied", "no"], ["r3", "expired", "nobody decided"]]);
  // A decision on a request asked before the log we have changes nothing.
  assert.equal(reduce(denied, onApproval("r9", "ApprovalGranted", { scope: "once", by: "user" })).approvals.r9, undefined);
});

test("budgets: set at the start and since, warned about, spent; a new one warns anew", () => {
  let state = started.reduce(reduce, initialState());
  assert.deepEqual([state.session.budget_usd, state.agents[SAM].budget_usd], [2, 1]);
  state = [
    onSam("BudgetWarned", { task: "hello", scope: "agent", percent: 75, budget_usd: 1, spent_usd: 0.8 }),
    onSam("BudgetWarned", { task: "hello", scope: "session", percent: 50, budget_usd: 2, spent_usd: 1 }),
  ].reduce(reduce, state);
  assert.deepEqual([state.agents[SAM].budget_warned, state.session.budget_warned], [75, 50]);
  state = reduce(state, onSam("BudgetExceeded", { task: "hello", scope: "agent", budget_usd: 1, spent_usd: 1.1 }));
  assert.equal(state.agents[SAM].budget_warned, 100);
  state = [onSam("BudgetSet", { budget_usd: 5, by: "ui" }), onSession("BudgetSet", { budget_usd: null, by: "ui" })]
    .reduce(reduce, state);
  assert.deepEqual([state.agents[SAM].budget_usd, state.agents[SAM].budget_warned], [5, 0]);
  assert.deepEqual([state.session.budget_usd, state.session.budget_warned], [null, 0]);
  state = reduce(state, onSession("BudgetWarned", { task: null, scope: "session", percent: 90, budget_usd: 2, spent_usd: 1.9 }));
  assert.equal(state.session.budget_warned, 90);
});
