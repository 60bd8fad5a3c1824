// The approval queue: every request for permission of every session's agents,
// oldest first, each with who asks, for which task, the tool, its input as a
// person reads it (a command, a diff preview) and the rule that asked; and
// Allow once / Always for this agent / Deny with a note, by click or by key.
//
// Live, the queue is what GET /api/approvals says is pending in any session
// (ui/pending.js keeps it current), followed by the shown session's requests
// decided, as its log tells them. In replay it is the session's requests as
// of the shown moment: history, with the buttons disabled.

import { h, clock, setText, shortId } from "./format.js";
import { toolInput, ruleLabel } from "./details.js";
import { hue } from "./agents.js";
import { ApprovalStatus, Scope, Decision } from "./meta.js";

const HISTORY = 20; // decided requests shown below the pending ones, newest first

/** The queue's keys: [key, what it does]. The panel's title lists them. */
export const SHORTCUTS = [
  ["q", "open or close the approval queue"],
  ["j", "next request"],
  ["k", "previous request"],
  ["a", "allow once"],
  ["A", "always allow this for the agent"],
  ["d", "deny: type a note for the agent, Enter sends it"],
  ["Escape", "close the queue"],
];
export const SHORTCUTS_HELP = SHORTCUTS.map(([key, what]) => `${key}: ${what}`).join("\n");

/** Requests in the order they were asked: oldest first. */
export function queueOrder(approvals) {
  return [...approvals].sort((x, y) =>
    (x.notification_id ?? Infinity) - (y.notification_id ?? Infinity)
    || String(x.requested_at).localeCompare(String(y.requested_at))
    || String(x.id).localeCompare(String(y.id)));
}

/** Decided requests, the latest decision first. */
export function decidedNewestFirst(approvals) {
  return approvals
    .filter((a) => a.status !== ApprovalStatus.PENDING)
    .sort((x, y) => String(y.decided_at).localeCompare(String(x.decided_at)));
}

/** What came of a request: "allowed once by user", "denied by user: not now". */
export function outcomeLabel(approval) {
  const by = approval.decided_by ? ` by ${approval.decided_by}` : "";
  const note = approval.message ? `: ${approval.message}` : "";
  switch (approval.status) {
    case ApprovalStatus.GRANTED:
      if (approval.scope === Scope.AGENT) return `always allowed for ${approval.agent}${by}`;
      if (approval.scope === Scope.SESSION) return `always allowed in the session${by}`;
      return `allowed once${by}`;
    case ApprovalStatus.DENIED:
      return `denied${by}${note}`;
    case ApprovalStatus.EXPIRED:
      return `expired${note}`;
    default:
      return "waiting for a decision";
  }
}

/** What a key does in the queue (see SHORTCUTS), or null. */
export function shortcutOf(key) {
  const actions = { j: "next", k: "previous", a: "once", A: "always", d: "deny", Escape: "close" };
  return actions[key] ?? null;
}

export class ApprovalsPanel {
  /**
   * @param root the drawer's element
   * @param sessionId the shown session's id: a request of another says which it is
   * @param actions {decide(approval, decision, scope, message) => Promise, close(), notify()}
   */
  constructor(root, sessionId, actions) {
    this.root = root;
    this.sessionId = sessionId;
    this.actions = actions;
    this.count = h("span.approvals-count");
    this.notifyButton = h("button.small#approvals-notify", {
      type: "button", hidden: true, title: "tell me of new requests while this tab is hidden (a desktop notification)",
      onclick: () => actions.notify(),
    }, "notify me");
    this.list = h("div.approvals-list#approvals");
    this.empty = h("p.empty", null, "No requests for permission.");
    root.title = SHORTCUTS_HELP;
    root.append(
      h("div.approvals-head", null,
        h("h2", null, "Approvals", this.count),
        this.notifyButton,
        h("button.small#approvals-close", { type: "button", title: "close the queue (Escape)", onclick: () => actions.close() }, "✕")),
      h("p.approvals-keys", null, "keys: a allow once · A always · d deny with a note · j/k move · q close"),
      this.list, this.empty);
    this.cards = new Map(); // approval id -> {card, fields, last}
    this.shown = []; // the approvals drawn, in order
    this.selected = null; // the id of the request the keys act on
    this.busy = new Set(); // ids whose decision is on its way
    this.live = true;
  }

  /**
   * @param pending the requests waiting for a decision, as live (the API) or as of the moment
   * @param decided decided requests, newest first
   */
  render(pending, decided, live) {
    if (this.root.hidden) return; // closed: drawn when opened (a scrub need not draw it)
    this.live = live;
    const shown = [...queueOrder(pending), ...decided.slice(0, HISTORY)];
    setText(this.count, ` · ${pending.length} pending`);
    this.empty.hidden = shown.length > 0;
    this.root.classList.toggle("replaying", !live);
    const wanted = new Set(shown.map((a) => a.id));
    for (const [id, entry] of this.cards) {
      if (!wanted.has(id)) {
        entry.card.remove();
        this.cards.delete(id);
      }
    }
    let next = this.list.firstElementChild;
    for (const approval of shown) {
      let entry = this.cards.get(approval.id);
      if (!entry) {
        entry = this.makeCard(approval);
        this.cards.set(approval.id, entry);
      }
      if (entry.last !== approval || entry.live !== live) this.fill(entry, approval);
      if (entry.card === next) next = next.nextElementSibling;
      else this.list.insertBefore(entry.card, next);
    }
    this.shown = shown;
    if (!wanted.has(this.selected)) this.selected = pending.length ? queueOrder(pending)[0].id : shown[0]?.id ?? null;
    for (const [id, entry] of this.cards) entry.card.classList.toggle("selected", id === this.selected);
  }

  setNotifiable(askable) {
    this.notifyButton.hidden = !askable;
  }

  makeCard(approval) {
    const fields = {
      outcome: h("div.approval-outcome"),
      note: h("input.approval-note", {
        type: "text", placeholder: "a note for the agent (sent with Deny)", autocomplete: "off",
        onkeydown: (e) => this.noteKey(e, approval.id),
      }),
    };
    const button = (cls, label, key, title, act) =>
      h(`button.small.${cls}`, { type: "button", title: `${title} (${key})`, onclick: act }, label);
    fields.buttons = [
      button("allow-once.primary", "Allow once", "a", "let the agent use the tool this time", () => this.act(approval.id, "once")),
      button("allow-always", "Always for this agent", "A", `allow ${approval.agent} this from now on`, () => this.act(approval.id, "always")),
      button("deny.danger", "Deny", "d", "refuse; the agent is told the note", () => this.act(approval.id, "deny")),
    ];
    const card = h("div.approval", { dataset: { id: approval.id }, onclick: () => this.select(approval.id) },
      h("div.approval-head", null,
        h("span.approval-agent", null, approval.agent),
        h("span.approval-task", null, approval.task ? `task ${approval.task}` : "no task"),
        h("span.approval-time", { title: approval.requested_at }, clock(approval.requested_at))),
      approval.session_id === this.sessionId ? null : h("a.approval-session", {
        href: `/sessions/${encodeURIComponent(approval.session_id)}`,
        title: "open the session this request is from",
        onclick: (e) => e.stopPropagation(),
      }, `in session ${shortId(approval.session_id)}`),
      h("div.approval-tool", null,
        h("span.approval-tool-name", null, approval.tool),
        h("span.approval-rule", null, ruleLabel(approval.rule))),
      h("div.approval-input", null, toolInput(approval.tool, approval.input ?? {})),
      fields.outcome,
      h("div.approval-actions", null, fields.note, h("div.approval-buttons", null, fields.buttons)));
    card.style.setProperty("--agent-hue", hue(approval.agent));
    return { card, fields, last: null, live: null };
  }

  fill(entry, approval) {
    const { card, fields } = entry;
    const open = this.live && approval.status === ApprovalStatus.PENDING && !this.busy.has(approval.id);
    card.dataset.status = approval.status;
    setText(fields.outcome, this.live || approval.status !== ApprovalStatus.PENDING
      ? outcomeLabel(approval) : "pending at this moment");
    fields.outcome.hidden = approval.status === ApprovalStatus.PENDING && this.live;
    for (const button of fields.buttons) button.disabled = !open;
    fields.note.disabled = !open;
    entry.last = approval;
    entry.live = this.live;
  }

  select(id) {
    this.selected = id;
    for (const [key, entry] of this.cards) entry.card.classList.toggle("selected", key === id);
    this.cards.get(id)?.card.scrollIntoView({ block: "nearest" });
  }

  move(step) {
    const ids = this.shown.map((a) => a.id);
    if (!ids.length) return;
    const at = ids.indexOf(this.selected);
    this.select(ids[Math.max(0, Math.min(ids.length - 1, (at < 0 ? 0 : at + step)))]);
  }

  /** A key pressed while the queue is open and nothing is typed in: true if it was the queue's. */
  key(e) {
    const action = shortcutOf(e.key);
    if (!action) return false;
    if (action === "close") this.actions.close();
    else if (action === "next") this.move(1);
    else if (action === "previous") this.move(-1);
    else if (action === "deny") this.cards.get(this.selected)?.fields.note.focus();
    else if (this.selected) this.act(this.selected, action);
    return true;
  }

  noteKey(e, id) {
    e.stopPropagation(); // typing a note is not pressing the queue's keys
    if (e.key === "Enter" && !e.isComposing) this.act(id, "deny");
    else if (e.key === "Escape") e.target.blur();
  }

  /** once | always | deny, on the request `id`, if it still waits. */
  async act(id, how) {
    const entry = this.cards.get(id);
    const approval = entry?.last;
    if (!this.live || !approval || approval.status !== ApprovalStatus.PENDING || this.busy.has(id)) return;
    this.select(id);
    this.busy.add(id);
    this.fill(entry, approval);
    try {
      const note = entry.fields.note.value.trim();
      if (how === "deny") await this.actions.decide(approval, Decision.DENY, Scope.ONCE, note);
      else await this.actions.decide(approval, Decision.ALLOW, how === "always" ? Scope.AGENT : Scope.ONCE, "");
    } finally {
      this.busy.delete(id);
      if (this.cards.get(id) === entry) this.fill(entry, entry.last);
    }
  }
}
