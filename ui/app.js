// podium's web UI: one session's log, shown as of a moment.
//
// The page holds the session's events (EventLog), a cursor into them (how
// many are shown) and whether the cursor follows the head (live) or not
// (replay). Everything on screen is drawn from the reducer's state at the
// cursor, so live and replay are the same drawing of the same fold.

import { api } from "./api.js";
import { EventLog } from "./log.js";
import { Timeline } from "./timeline.js";
import { Header } from "./header.js";
import { AgentsPanel } from "./agents.js";
import { StreamPanel } from "./stream.js";
import { ChatPanel, Drafts } from "./chat.js";
import { ReplayBar } from "./replay.js";
import { h } from "./format.js";
import { learnMeta } from "./meta.js";
import { ApprovalsPanel, decidedNewestFirst } from "./approvals.js";
import { PendingRequests } from "./pending.js";
import { Notifier } from "./notify.js";
import { pendingApprovals } from "./reducer.js";
import { SystemLogPanel } from "./system-log.js";

const URL_SYNC_MS = 500;
const AGENT_COMMAND = /^@([A-Za-z][A-Za-z0-9_-]{0,63})\s+([\s\S]+)$/;

class SessionPage {
  constructor(sessionId, at) {
    this.sessionId = sessionId;
    this.log = new EventLog(sessionId);
    this.timeline = new Timeline(this.log.events);
    this.drafts = new Drafts();
    // The cursor: the first `count` events are shown. `target`: a deep link's
    // notification id, held until the events up to it are in.
    this.view = { count: 0, following: at == null, target: at };
    this.frame = 0;
    this.title = null;

    this.notifier = new Notifier((id) => this.openQueue(id));
    this.pending = new PendingRequests(
      (requests) => {
        this.notifier.pending(requests);
        this.schedule();
      },
      (error) => {
        if (error.status) toast(error.message); // podium unreachable: the connection says so already
      });

    this.header = new Header(byId("header"), (id) => openSession(id), () => this.newSession(), {
      toggleQueue: () => this.toggleQueue(),
      toggleLog: () => this.toggleLog(),
      setBudget: (budget) => this.command(() => api.setSessionBudget(this.sessionId, budget)),
    });
    this.agents = new AgentsPanel(byId("agents-panel"), {
      select: (name) => this.stream.toggleAgent(name),
      interrupt: (name) => this.act(() => api.interruptAgent(this.sessionId, name)),
      setBudget: (name, budget) => this.command(() => api.setAgentBudget(this.sessionId, name, budget)),
      openQueue: () => this.openQueue(),
      remove: (name) => {
        if (confirm(`Delete ${name}? Its history stays in the log.`)) {
          this.act(() => api.deleteAgent(this.sessionId, name));
        }
      },
    });
    this.stream = new StreamPanel(byId("stream-panel"), this.log);
    this.approvals = new ApprovalsPanel(byId("approvals-panel"), sessionId, {
      decide: (approval, decision, scope, message) => this.decide(approval, decision, scope, message),
      close: () => this.toggleQueue(false),
      notify: () => this.askToNotify(),
    });
    this.systemLog = new SystemLogPanel(byId("system-log-panel"), { close: () => this.toggleLog(false) });
    this.chat = new ChatPanel(byId("chat-panel"), (text) => this.send(text));
    this.replay = new ReplayBar(byId("replay"), this.log, {
      seek: (count) => this.seek(count),
      goLive: () => this.goLive(),
    });

    this.log.on("append", (start) => this.appended(start));
    this.log.on("delta", (delta) => {
      this.drafts.delta(delta);
      if (this.view.following) this.schedule();
    });
    this.log.on("status", () => {
      const problem = this.log.error?.message;
      if (problem && problem !== this.shownProblem) toast(problem); // once, not at every retry
      this.shownProblem = problem;
      this.schedule();
    });
    this.schedule();
  }

  start() {
    this.pending.watch(); // every session's requests, on any page: the front page's too
    if (this.sessionId) this.log.start();
    else this.log.setStatus("no session");
  }

  appended(start) {
    const { events } = this.log;
    this.stream.appended(start);
    for (let i = start; i < events.length; i++) this.drafts.stored(events[i]);
    const view = this.view;
    if (view.following) view.count = events.length;
    else if (view.target != null) view.count = this.log.countUpToId(view.target);
    this.schedule();
  }

  // --- moving the cursor --------------------------------------------------------

  seek(count) {
    const view = this.view;
    view.count = Math.max(0, Math.min(count, this.log.events.length));
    view.following = false;
    view.target = null;
    this.schedule();
  }

  goLive() {
    Object.assign(this.view, { count: this.log.events.length, following: true, target: null });
    this.schedule();
  }

  // --- drawing -----------------------------------------------------------------

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  render() {
    this.frame = 0;
    const { count, following } = this.view;
    const state = this.timeline.stateAt(count);
    if (state.session.title !== this.title && state.session.title) {
      this.title = state.session.title;
      document.title = `${this.title} · podium`;
    }
    this.header.setSession(this.title, this.sessionId);
    // Live: every session's requests (one queue for the team); in replay, this session's as they were.
    const pending = following ? this.pending.list() : pendingApprovals(state);
    this.header.render(state, this.log.connection, pending.length, following);
    this.approvals.render(pending, decidedNewestFirst(Object.values(state.approvals)), following);
    this.approvals.setNotifiable(this.notifier.askable);
    this.agents.render(state, following);
    this.chat.render(state, following ? this.drafts : null);
    this.stream.setCursor(count, state);
    this.replay.render(count, following);
    document.body.classList.toggle("replaying", !following);
    // Scrolling to the bottom needs a layout: once, after all the writes above.
    this.chat.stick();
    this.stream.stick();
    this.syncUrl();
  }

  /** The address says what is shown: /sessions/ID, with ?at=ID when not live. */
  syncUrl() {
    // At most every URL_SYNC_MS: browsers throttle pages that rewrite their address too often.
    if (!this.sessionId || this.urlTimer) return;
    this.urlTimer = setTimeout(() => {
      this.urlTimer = 0;
      this.writeUrl();
    }, URL_SYNC_MS);
  }

  writeUrl() {
    const { count, following, target } = this.view;
    let url = `/sessions/${this.sessionId}`;
    if (!following) url += `?at=${target ?? this.log.events[count - 1]?.id ?? 0}`;
    if (url !== location.pathname + location.search) history.replaceState(null, "", url);
  }

  // --- the approval queue ------------------------------------------------------

  async decide(approval, decision, scope, message) {
    try {
      await api.decide(approval.id, decision, scope, message);
      this.pending.decided(approval.id);
    } catch (error) {
      toast(error.message); // 409: someone decided first; the queue is asked again below
    }
    this.schedule();
    this.pending.refresh();
  }

  toggleQueue(open = byId("approvals-panel").hidden) {
    byId("approvals-panel").hidden = !open;
    if (open) this.pending.refresh();
    if (open) this.toggleLog(false); // one drawer at a time: they open in the same place
    this.schedule(); // the queue is drawn only while open
  }

  openQueue(id = null) {
    this.toggleQueue(true);
    if (id) this.approvals.select(id);
  }

  /** podium's system log, in the drawer the queue opens in. */
  toggleLog(open = !this.systemLog.open) {
    if (open === this.systemLog.open) return;
    if (open) this.toggleQueue(false);
    this.systemLog.setOpen(open);
  }

  /** The drawers' keys (q and the queue's: ui/approvals.js SHORTCUTS; l, Escape): true if `e` was one. */
  drawerKey(e) {
    if (e.key === "q" || e.key === "l") {
      if (e.key === "q") this.toggleQueue();
      else this.toggleLog();
      return true;
    }
    if (e.key === "Escape" && this.systemLog.open) {
      this.toggleLog(false);
      return true;
    }
    return !byId("approvals-panel").hidden && this.approvals.key(e);
  }

  async askToNotify() {
    await this.notifier.ask();
    this.schedule();
  }

  // --- acting ------------------------------------------------------------------

  /** A command whose failure is shown, and thrown on to the control that sent it. */
  async command(action) {
    try {
      return await action();
    } catch (error) {
      toast(error.message);
      throw error;
    }
  }

  async send(text) {
    let sessionId = this.sessionId;
    if (!sessionId) sessionId = (await api.createSession({ title: text.slice(0, 60) })).session_id;
    const command = AGENT_COMMAND.exec(text);
    if (command) await api.commandAgent(sessionId, command[1], command[2]);
    else await api.sendMessage(sessionId, text);
    if (sessionId !== this.sessionId) openSession(sessionId);
    else this.goLive(); // you will want to see the answer
  }

  async newSession() {
    await this.act(async () => openSession((await api.createSession({})).session_id));
  }

  async act(action) {
    try {
      await action();
    } catch (error) {
      toast(error.message);
    }
  }
}

function openSession(id) {
  location.assign(`/sessions/${encodeURIComponent(id)}`);
}

function byId(id) {
  return document.getElementById(id);
}

export function toast(message) {
  const note = h("div.toast", { role: "alert" }, message);
  byId("toasts").append(note);
  setTimeout(() => note.remove(), 6000);
}

function keyboard(page) {
  document.addEventListener("keydown", (e) => {
    const typing = e.target.closest?.("input, textarea, select, [contenteditable]");
    if (!typing && !e.ctrlKey && !e.metaKey && !e.altKey && page.drawerKey(e)) {
      e.preventDefault();
      return;
    }
    if (e.key === "/" && !typing) {
      e.preventDefault();
      page.stream.focusSearch();
    } else if (e.key === "Escape" && (e.target === page.stream.search || (!typing && page.stream.search.value))) {
      page.stream.clearSearch();
    }
  });
}

async function main() {
  try {
    learnMeta(await api.meta()); // before anything is drawn: it names every status
  } catch (error) {
    toast(error.message);
    return;
  }
  const match = /^\/sessions\/([^/]+)\/?$/.exec(location.pathname);
  const params = new URLSearchParams(location.search);
  let sessionId = match ? decodeURIComponent(match[1]) : null;
  const at = params.has("at") && /^\d+$/.test(params.get("at")) ? Number(params.get("at")) : null;
  if (!sessionId) {
    // The front page shows the newest session; with none, the chat starts one.
    try {
      sessionId = (await api.sessions())[0]?.session_id ?? null;
    } catch (error) {
      toast(error.message);
    }
    if (sessionId) history.replaceState(null, "", `/sessions/${sessionId}`);
  }
  const page = new SessionPage(sessionId, at);
  keyboard(page);
  page.start();
  window.podium = page; // for the curious, and for the browser tests
}

main();
