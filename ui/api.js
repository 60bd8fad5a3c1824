// The gateway's HTTP API. Errors are RFC 9457 problem documents; they are
// thrown as ApiError with the problem's detail, which is written for people.

// Beyond loopback the gateway wants a token: it comes once in the page's URL
// (?token=…, as `podium up` prints it) and is kept for this tab.
const TOKEN_KEY = "podium.token";
const urlToken = new URLSearchParams(location.search).get("token");
if (urlToken) sessionStorage.setItem(TOKEN_KEY, urlToken);
const token = sessionStorage.getItem(TOKEN_KEY);

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `request failed (${status})`);
    this.status = status;
    this.problem = problem;
  }
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
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

const session = (id) => `/api/sessions/${encodeURIComponent(id)}`;
const agent = (id, name) => `${session(id)}/agents/${encodeURIComponent(name)}`;

export const api = {
  sessions: () => request("GET", "/api/sessions").then((d) => d.sessions),
  session: (id) => request("GET", session(id)),
  createSession: (fields = {}) => request("POST", "/api/sessions", fields),
  sendMessage: (id, text) => request("POST", `${session(id)}/messages`, { text }),
  agents: (id) => request("GET", `${session(id)}/agents`).then((d) => d.agents),
  createAgent: (id, fields) => request("POST", `${session(id)}/agents`, fields),
  commandAgent: (id, name, command) => request("POST", `${agent(id, name)}/commands`, { command }),
  interruptAgent: (id, name) => request("POST", `${agent(id, name)}/interrupt`),
  deleteAgent: (id, name) => request("DELETE", agent(id, name)),
  /** One page of a session's log: {events, next_after, head}. */
  events: (id, after, limit) =>
    request("GET", `${session(id)}/events?after=${after}&limit=${limit}`),
  /** The URL of the live stream of a session's events after `after`. */
  streamUrl: (id, after) => {
    const query = new URLSearchParams({ session: id, after: String(after) });
    if (token) query.set("token", token);
    return `/api/stream?${query}`;
  },
};
