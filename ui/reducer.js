// The one reducer: what a session looks like after a prefix of its log.
//
//     state = events.reduce(reduce, initialState())
//
// The live view and replay both call this, over the same events: the live
// view is a replay that keeps up. No DOM here, so it runs (and is tested)
// anywhere (once the vocabulary is learnt: ui/meta.js).
//
// States are never mutated: each event makes a new state that shares every
// part it did not change with the previous one. That is what makes replay
// cheap: a checkpoint is just a reference to a state, and a scrub folds from
// the nearest one.

import { AgentStatus, SessionStatus, ApprovalStatus } from "./meta.js";
import { EMPTY_IDS, idGet, idSet } from "./idmap.js";

export function initialState() {
  return {
    count: 0, // events folded so far
    position: 0, // notification id of the last event folded (0: none yet)
    at: null, // its time (ISO string)
    session: {
      title: "", cwd: "", status: SessionStatus.ACTIVE, busy: false,
      budget_usd: null, budget_warned: 0, // the highest warning (percent) under the budget
    },
    // Agents by agent id (their stream id), in order of creation. A name can
    // come back after a delete as a new agent (a new id), so names are not keys.
    agents: {},
    // Requests for permission by id, in the order they were asked (oldest
    // first), each shaped as GET /api/approvals gives it.
    approvals: {},
    totals: { ...NO_SPEND },
    chat: null, // the 3-way conversation, newest first: see chatMessages()
    summaries: EMPTY_IDS, // AI summaries by the summarized event's notification id: see aiSummary()
    // The summarizer's model calls (turns: calls), apart from the agents', and its last failure.
    summarizer: { ...NO_SPEND, failures: 0, failure: null },
  };
}

export function reduce(state, event) {
  const fold = FOLDS.get(event.type) ?? touch;
  const next = fold(state, event);
  return { ...next, count: state.count + 1, position: event.id, at: event.at };
}

// --- the chat: a persistent list ------------------------------------------
// A chat can hold tens of thousands of messages; copying an array for each
// would make a fold quadratic. A linked list, newest first, appends in O(1)
// and shares its tail with every earlier state.

function pushChat(chat, message) {
  return { message, previous: chat, length: (chat?.length ?? 0) + 1 };
}

/** The newest `limit` messages of a state's chat, oldest first. */
export function chatMessages(state, limit = Infinity) {
  const messages = [];
  for (let node = state.chat; node && messages.length < limit; node = node.previous) {
    messages.push(node.message);
  }
  return messages.reverse();
}

export function chatLength(state) {
  return state.chat?.length ?? 0;
}

function chatMessage(event, role, author, kind, text, agentId = null) {
  return { id: event.id, at: event.at, role, author, kind, text, agentId };
}

// --- agents ---------------------------------------------------------------

/** The state's agents, in order of creation. */
export function agentList(state) {
  return Object.values(state.agents);
}

function newAgent(event) {
  const p = event.payload;
  return {
    agent_id: event.stream_id,
    name: p.name,
    model: p.model,
    template: p.template ?? null,
    status: AgentStatus.IDLE,
    current_task: null,
    queued: 0, // commands waiting for their turn
    current_tool: null, // the tool in flight, e.g. "Write hello.py"
    ...NO_SPEND,
    tool_uses: 0,
    budget_usd: p.budget_usd ?? null,
    budget_warned: 0, // the highest warning (percent) under its budget
    awaiting: null, // the tool it asks to use, while it awaits a decision: "Bash ls"
    summary: null, // the AI summary of its latest summarized event: {text, of (that event's id)}
    last_activity_at: event.at,
  };
}

// An agent event changes its agent (and stamps its activity); any other
// fields of the state stay shared.
function updateAgent(state, event, change) {
  const agent = state.agents[event.stream_id];
  if (!agent) return state; // an agent of another session, or created before the log we have
  const changed = { ...agent, ...change(agent), last_activity_at: event.at };
  return { ...state, agents: { ...state.agents, [event.stream_id]: changed } };
}

export function toolLabel(tool, input) {
  const target = input?.file_path ?? input?.path ?? input?.command ?? input?.pattern ?? "";
  const short = String(target).split("/").pop();
  return short ? `${tool} ${short}`.slice(0, 80) : tool;
}

// What turns spent, as the agents and costs rows of the API name it: tokens
// of every kind (cache reads and writes are most of a long turn's), the CLI's
// cost, podium's price of the same tokens, and how often the two disagreed.
export const NO_SPEND = Object.freeze({
  input_tokens: 0,
  output_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
  cost_usd: 0,
  priced_usd: 0,
  unpriced_turns: 0,
  discrepancies: 0,
  turns: 0,
});

/** A turn (TurnCompleted's payload) added to what a session or an agent spent. */
export function addTurn(spent, p) {
  const usage = p.usage ?? {};
  return {
    ...spent,
    input_tokens: spent.input_tokens + (usage.input_tokens ?? 0),
    output_tokens: spent.output_tokens + (usage.output_tokens ?? 0),
    cache_read_input_tokens: spent.cache_read_input_tokens + (usage.cache_read_input_tokens ?? 0),
    cache_creation_input_tokens: spent.cache_creation_input_tokens + (usage.cache_creation_input_tokens ?? 0),
    cost_usd: spent.cost_usd + (p.cost_usd ?? 0),
    priced_usd: spent.priced_usd + (p.priced_usd ?? 0),
    unpriced_turns: spent.unpriced_turns + (p.priced_usd == null ? 1 : 0),
    turns: spent.turns + 1,
  };
}

function addDiscrepancy(spent) {
  return { ...spent, discrepancies: spent.discrepancies + 1 };
}

// --- how each kind of event changes the state -----------------------------
// The agent rules are the agents projector's (projections/read_models/
// agents.py), so the sidebar at the end of a log equals GET .../agents.

const SESSION_FOLDS = {
  SessionStarted: (state, e) => ({
    ...state,
    session: {
      ...state.session,
      title: e.payload.title,
      cwd: e.payload.cwd,
      budget_usd: e.payload.budget_usd ?? null,
    },
  }),
  UserMessageSent: (state, e) => ({
    ...state,
    session: { ...state.session, busy: true },
    chat: pushChat(state.chat, chatMessage(e, "user", "you", "message", e.payload.text)),
  }),
  OrchestratorReplied: (state, e) => ({
    ...state,
    chat: pushChat(
      state.chat,
      chatMessage(e, "orchestrator", "orchestrator", "message", e.payload.text),
    ),
  }),
  OrchestratorToolUsed: (state, e) => ({
    ...state,
    chat: pushChat(state.chat, chatMessage(e, "orchestrator", "orchestrator", "tool_use", e.summary)),
  }),
  SessionInterrupted: (state, e) => ({
    ...state,
    session: { ...state.session, status: SessionStatus.INTERRUPTED, busy: false },
    chat: pushChat(
      state.chat,
      chatMessage(e, "orchestrator", "podium", "note", `interrupted: ${e.payload.reason}`),
    ),
  }),
  SessionResumed: (state) => ({
    ...state,
    session: { ...state.session, status: SessionStatus.ACTIVE },
  }),
  SessionEnded: (state) => ({
    ...state,
    session: { ...state.session, status: SessionStatus.ENDED, busy: false },
  }),
};

// A command waits for the agent's earlier ones; one recorded before the queue
// existed (queued false) began its turn at once.
function commanded(agent, p) {
  const { WORKING, QUEUED } = AgentStatus;
  if (!p.queued) return { status: WORKING, current_task: p.task };
  return { queued: agent.queued + 1, status: agent.status === WORKING ? WORKING : QUEUED };
}

// A change may start the first waiting command's turn (`started`, with its
// task) or give up waiting ones (`dropped`, their tasks).
function statusChanged(agent, p) {
  const left = agent.queued - (p.started ? 1 : 0) - (p.dropped?.length ?? 0);
  const change = { status: p.status, queued: Math.max(left, 0) };
  return p.started ? { ...change, current_task: p.task } : change;
}

const AGENT_FOLDS = {
  AgentCreated: (state, e) => ({
    ...state,
    agents: { ...state.agents, [e.stream_id]: newAgent(e) },
  }),
  AgentCommanded: (state, e) => updateAgent(state, e, (agent) => commanded(agent, e.payload)),
  AgentStatusChanged: (state, e) => updateAgent(state, e, (agent) => statusChanged(agent, e.payload)),
  ToolUseRequested: (state, e) =>
    updateAgent(state, e, (agent) => ({
      tool_uses: agent.tool_uses + 1,
      current_tool: toolLabel(e.payload.tool, e.payload.input),
    })),
  ToolUseCompleted: (state, e) => updateAgent(state, e, () => ({ current_tool: null })),
  AgentTextEmitted: (state, e) => {
    const next = updateAgent(state, e, () => ({}));
    const author = state.agents[e.stream_id]?.name ?? e.agent ?? "agent";
    const message = chatMessage(e, "agent", author, "message", e.payload.text, e.stream_id);
    return { ...next, chat: pushChat(state.chat, message) };
  },
  AgentInterrupted: (state, e) =>
    updateAgent(state, e, () => ({ status: AgentStatus.INTERRUPTED, current_tool: null })),
  AgentFailed: (state, e) =>
    updateAgent(state, e, () => ({ status: AgentStatus.FAILED, current_tool: null })),
  AgentDeleted: (state, e) =>
    updateAgent(state, e, () => ({ status: AgentStatus.DELETED, current_tool: null })),
};

// The CLI's cost and podium's price of a turn differ by more than 1%.
function costDiscrepancy(state, e) {
  const totals = addDiscrepancy(state.totals);
  if (e.stream_type === "session") return { ...state, totals };
  return { ...updateAgent(state, e, addDiscrepancy), totals };
}

function turnCompleted(state, e) {
  const totals = addTurn(state.totals, e.payload);
  if (e.stream_type === "session") {
    return { ...state, totals, session: { ...state.session, busy: false } };
  }
  const { WORKING, QUEUED, IDLE } = AgentStatus;
  const next = updateAgent(state, e, (agent) => ({
    ...addTurn(agent, e.payload),
    current_tool: null,
    status: agent.status === WORKING ? (agent.queued ? QUEUED : IDLE) : agent.status,
  }));
  return { ...next, totals };
}

// --- governance: requests for permission, budgets ------------------------------

function requested(state, e) {
  const p = e.payload;
  const approval = {
    id: e.stream_id, session_id: p.session_id, agent_id: p.agent_id, agent: p.agent, task: p.task,
    tool: p.tool, input: p.input, rule: p.rule ?? "", status: ApprovalStatus.PENDING, scope: null,
    message: null, requested_at: e.at, decided_at: null, decided_by: null, notification_id: e.id,
  };
  const asking = { ...e, stream_id: p.agent_id };
  const next = updateAgent(state, asking, () => ({ awaiting: toolLabel(p.tool, p.input) }));
  return { ...next, approvals: { ...state.approvals, [approval.id]: approval } };
}

/** A decision (or expiry) on a request: `change` says what it made of it. */
function decided(change) {
  return (state, e) => {
    const approval = state.approvals[e.stream_id];
    if (!approval) return state; // asked before the log we have
    const done = { ...approval, ...change(e.payload), decided_at: e.at, decided_by: e.payload.by ?? null };
    const answered = { ...e, stream_id: approval.agent_id };
    const next = updateAgent(state, answered, () => ({ awaiting: null }));
    return { ...next, approvals: { ...state.approvals, [approval.id]: done } };
  };
}

const APPROVAL_FOLDS = {
  ApprovalRequested: requested,
  ApprovalGranted: decided((p) => ({ status: ApprovalStatus.GRANTED, scope: p.scope })),
  ApprovalDenied: decided((p) => ({ status: ApprovalStatus.DENIED, message: p.message })),
  ApprovalExpired: decided((p) => ({ status: ApprovalStatus.EXPIRED, message: p.reason })),
};

/** The state's requests for permission still waiting for a person, oldest first. */
export function pendingApprovals(state) {
  return Object.values(state.approvals).filter((a) => a.status === ApprovalStatus.PENDING);
}

// A budget is the session's or an agent's, by the stream it is on; a new one
// is warned about anew.
function budgetSet(state, e) {
  const change = { budget_usd: e.payload.budget_usd ?? null, budget_warned: 0 };
  if (e.stream_type === "session") return { ...state, session: { ...state.session, ...change } };
  return updateAgent(state, e, () => change);
}

// A warning (or, at 100%, the budget spent) is of the session's budget on the
// session's stream; on an agent's, of its own or (scope "session") the session's.
function budgetReached(percentOf) {
  return (state, e) => {
    const percent = percentOf(e.payload);
    const ofSession = e.stream_type === "session" || e.payload.scope === "session";
    const next = updateAgent(state, e, () => (ofSession ? {} : { budget_warned: percent }));
    return ofSession ? { ...next, session: { ...next.session, budget_warned: percent } } : next;
  };
}

const BUDGET_FOLDS = {
  BudgetSet: budgetSet,
  BudgetWarned: budgetReached((p) => p.percent),
  BudgetExceeded: budgetReached(() => 100),
};

// --- AI summaries: the summarizer's stream of the session ----------------------
// A summary arrives after the event it summarizes, so at any moment an event
// shows the summary only once the summary was made (replay shows it so too).

/** The AI summary of the event with this notification id, as of the state (or null). */
export function aiSummary(state, id) {
  return idGet(state.summaries, id) ?? null;
}

// An agent's card shows the summary of its latest event summarized (summaries
// may come in any order); a summary is no activity of the agent's.
function summarized(state, e) {
  const p = e.payload;
  const summaries = idSet(state.summaries, p.notification_id, p.summary);
  const agent = state.agents[p.agent_id];
  if (!agent || (agent.summary?.of ?? 0) > p.notification_id) return { ...state, summaries };
  const summary = { text: p.summary, of: p.notification_id };
  return { ...state, summaries, agents: { ...state.agents, [p.agent_id]: { ...agent, summary } } };
}

function summarizerFailed(state, e) {
  const { error, attempt, retry_in_s: retryInS } = e.payload;
  const failure = { error, attempt, retry_in_s: retryInS, at: e.at };
  return { ...state, summarizer: { ...state.summarizer, failures: state.summarizer.failures + 1, failure } };
}

const SUMMARY_FOLDS = {
  EventSummarized: summarized,
  // Priced by podium like a turn (the summarizer has no CLI cost); a call that worked ends a failure.
  SummarizerCalled: (state, e) => ({ ...state, summarizer: { ...addTurn(state.summarizer, e.payload), failure: null } }),
  SummarizerFailed: summarizerFailed,
};

// Any other agent event (thinking, hooks, file changes, ...) is still activity.
const touch = (state, e) => (e.stream_type === "agent" ? updateAgent(state, e, () => ({})) : state);

// A Map, not an object: an event type can never hit a prototype's property.
const FOLDS = new Map(
  Object.entries({
    ...SESSION_FOLDS, ...AGENT_FOLDS, ...APPROVAL_FOLDS, ...BUDGET_FOLDS, ...SUMMARY_FOLDS,
    TurnCompleted: turnCompleted, CostDiscrepancy: costDiscrepancy,
  }),
);
