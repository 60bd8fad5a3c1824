// The header: the session picker (every session, and "new session"), the
// shown session's status, how many requests for permission wait (it opens
// the queue), and its total cost against its budget as of the shown moment;
// apart from it, what the AI summaries cost (the summarizer's model calls),
// and a button that opens podium's system log.

import { api } from "./api.js";
import { h, usd, dateTime, shortId, setText, spendLine, spendDetail, summarizerLine, summarizerDetail } from "./format.js";
import { BudgetMeter } from "./budget.js";
import { SHORTCUTS_HELP } from "./approvals.js";

export class Header {
  /**
   * @param open (sessionId) => void  opens a session
   * @param create () => Promise<void>  starts a new session and opens it
   * @param governance {toggleQueue(), toggleLog(), setBudget(budgetUsd or null) => Promise}
   */
  constructor(root, open, create, governance) {
    this.open = open;
    this.create = create;
    this.approvals = h("button.approvals-badge#approvals-count", {
      type: "button", title: `requests for permission waiting for you: open the queue\n${SHORTCUTS_HELP}`,
      onclick: () => governance.toggleQueue(),
    }, "0 approvals");
    this.budget = new BudgetMeter("the session's", governance.setBudget, "session-budget");
    this.pickerButton = h("button.picker#session-picker", { type: "button", onclick: () => this.togglePicker() },
      h("span.picker-title", null, "no session"), h("span.caret", null, "▾"));
    this.menu = h("div.session-menu#session-menu", { hidden: true });
    this.status = h("span.session-status#session-status");
    this.connection = h("span.connection#connection", { title: "connection to podium" });
    this.cost = h("span.total-cost#total-cost", { title: "the session's total cost so far" }, usd(0));
    this.spend = h("span.total-spend#total-spend");
    this.summarizer = h("span.summarizer-spend#summarizer-spend", { hidden: true });
    this.logButton = h("button.small#system-log-button", {
      type: "button", title: "podium's own system log (l)", onclick: () => governance.toggleLog(),
    }, "system log");
    root.append(
      h("div.brand", null, "podium"),
      h("div.picker-wrap", null, this.pickerButton, this.menu),
      this.status,
      h("div.spacer"),
      this.approvals,
      this.logButton,
      this.connection,
      h("div.header-cost", null, h("span.cost-label", null, "cost"), this.cost, this.spend, this.budget.el),
      this.summarizer,
    );
    document.addEventListener("click", (e) => {
      if (!this.menu.hidden && !e.target.closest(".picker-wrap")) this.menu.hidden = true;
    });
  }

  setSession(title, sessionId) {
    setText(this.pickerButton.firstChild, title || (sessionId ? `session ${shortId(sessionId)}` : "no session"));
    this.pickerButton.title = sessionId ?? "";
    this.sessionId = sessionId;
  }

  /** @param pending how many requests wait, as of the shown moment */
  render(state, connection, pending, live) {
    setText(this.cost, usd(state.totals.cost_usd));
    setText(this.spend, spendLine(state.totals));
    this.spend.title = this.cost.title = spendDetail(state.totals);
    const { summarizer } = state;
    this.summarizer.hidden = !summarizer.turns && !summarizer.failures;
    setText(this.summarizer, summarizerLine(summarizer));
    this.summarizer.title = summarizerDetail(summarizer);
    this.summarizer.dataset.failing = String(!!summarizer.failure);
    const { session } = state;
    this.budget.render(state.totals.cost_usd, session.budget_usd, session.budget_warned, live && !!this.sessionId);
    setText(this.approvals, `${pending} approval${pending === 1 ? "" : "s"}`);
    this.approvals.dataset.pending = String(pending);
    setText(this.status, state.session.status);
    this.status.dataset.status = state.session.status;
    this.connection.dataset.state = connection;
    setText(this.connection, connection);
  }

  async togglePicker() {
    if (!this.menu.hidden) {
      this.menu.hidden = true;
      return;
    }
    this.menu.hidden = false;
    this.menu.replaceChildren(h("div.muted", null, "loading…"));
    let sessions;
    try {
      sessions = await api.sessions();
    } catch (error) {
      this.menu.replaceChildren(h("div.chat-error", null, error.message));
      return;
    }
    const newButton = h("button.primary#new-session", {
      type: "button",
      onclick: async () => {
        this.menu.hidden = true;
        await this.create();
      },
    }, "+ new session");
    this.menu.replaceChildren(newButton, ...sessions.map((s) => this.sessionItem(s)));
  }

  sessionItem(session) {
    const current = session.session_id === this.sessionId;
    return h(`a.session-item${current ? ".current" : ""}`, {
      href: `/sessions/${session.session_id}`,
      dataset: { sessionId: session.session_id },
      onclick: (e) => {
        e.preventDefault();
        this.menu.hidden = true;
        this.open(session.session_id);
      },
    },
    h("div.session-item-title", null, session.title || `session ${shortId(session.session_id)}`),
    h("div.session-item-meta", null,
      `${dateTime(session.started_at)} · ${session.status} · ${session.agents} agents · ` +
      `${session.messages} messages · ${usd(session.cost_usd)}`));
  }
}
