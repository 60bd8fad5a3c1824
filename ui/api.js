// The gateway's HTTP API. Errors are RFC 9457 problem documents; they are
// thrown as ApiError with the problem's detail, which is written for people.
//
// In token mode the gateway turns the link's ?token= into an HttpOnly cookie
// before this page loads, so every request, the EventSource included, carries
// it without the page ever seeing the token.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `request failed (${status})`);
    this.status = status;
    this.problem = problem;
  }
}

async function request(method, path, body, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...extraHeaders };
  // The gateway takes only JSON for anything that changes state, bodiless or not.
  if (method !== "GET") headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, { detail: `podium is not reachable (${error.message})` });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// A decision or a budget is sent once per click: should the answer be lost and
// the request be sent again, the gateway answers it again instead of acting twice.
let commands = 0;
function idempotent() {
  commands += 1;
  return { "Idempotency-Key": `ui-${Date.now().toString(36)}-${commands}-${Math.random().toString(36).slice(2, 10)}` };
}

const session = (id) => `/api/sessions/${encodeURIComponent(id)}`;

/** The largest notification id (a PostgreSQL bigint, past JS's exact numbers: a string): before it, the newest. */
export const NEWEST = "9223372036854775807";

/** A query string of the filters given (null and undefined ones left out). */
function query(filter) {
  const given = Object.entries(filter).filter(([, value]) => value != null);
  return new URLSearchParams(given.map(([key, value]) => [key, String(value)]));
}
const agent = (id, name) => `${session(id)}/agents/${encodeURIComponent(name)}`;

export const api = {
  /** The statuses, categories and levels podium defines (ui/meta.js). */
  meta: () => request("GET", "/api/meta"),
  sessions: () => request("GET", "/api/sessions").then((d) => d.sessions),
  session: (id) => request("GET", session(id)),
  createSession: (fields = {}) => request("POST", "/api/sessions", fields),
  sendMessage: (id, text) => request("POST", `${session(id)}/messages`, { text }),
  agents: (id) => request("GET", `${session(id)}/agents`).then((d) => d.agents),
  createAgent: (id, fields) => request("POST", `${session(id)}/agents`, fields),
  commandAgent: (id, name, command) => request("POST", `${agent(id, name)}/commands`, { command }),
  interruptAgent: (id, name) => request("POST", `${agent(id, name)}/interrupt`),
  deleteAgent: (id, name) => request("DELETE", agent(id, name)),
  /** Every session's requests for permission: status "pending" or "decided". */
  approvals: (status) =>
    request("GET", `/api/approvals?${new URLSearchParams({ status })}`).then((d) => d.approvals),
  /** decision: "allow" | "deny"; scope: how far an allow reaches; message: what a denied agent is told. */
  decide: (approvalId, decision, scope, message) =>
    request("POST", `/api/approvals/${encodeURIComponent(approvalId)}/decision`,
      { decision, scope, message }, idempotent()),
  /** budgetUsd: dollars, or null for no budget. */
  setSessionBudget: (id, budgetUsd) =>
    request("POST", `${session(id)}/budget`, { budget_usd: budgetUsd }, idempotent()),
  setAgentBudget: (id, name, budgetUsd) =>
    request("POST", `${agent(id, name)}/budget`, { budget_usd: budgetUsd }, idempotent()),
  /** One page of a session's log: {events, next_after, head}. */
  events: (id, after, limit) =>
    request("GET", `${session(id)}/events?after=${after}&limit=${limit}`),
  /**
   * A page of podium's system log, newest first below `before` (NEWEST: the newest page),
   * of one level or (null) all: {items, next_before, head}.
   */
  systemLogs: ({ before, level, limit }) => request("GET", `/api/system-logs?${query({ before, level, limit })}`),
  /** The URL of the live stream of the events a filter selects: {session, category, after}. */
  streamUrl: (filter) => `/api/stream?${query(filter)}`,
};
