// podium's own system log (its lifecycle, warnings and errors: SystemLogged
// events), in a drawer: newest first, of one level or all, older entries
// paged in on demand, new ones arriving live.
//
// Opening it reads the newest page (GET /api/system-logs?before=) and follows
// the live stream of system events from the page's `head`: every entry up to
// head is in the page, every later one comes from the stream, and an entry
// both give is shown once. It is podium's log, not the session's: it shows
// the present in replay too. Closed, it follows nothing.

import { api, NEWEST } from "./api.js";
import { h, dateTime, shortId, setText } from "./format.js";
import { LEVELS, SYSTEM_CATEGORY } from "./meta.js";

export const PAGE = 100;
const RETRY_MS = 2000;

/** A SystemLogged event as GET /api/system-logs lists it (null: another system event). */
export function entryOf(event) {
  if (event.type !== "SystemLogged") return null;
  const p = event.payload;
  return {
    notification_id: event.id, at: event.at, level: p.level, message: p.message,
    context: p.context ?? {}, session_id: p.session_id ?? null,
  };
}

/** An entry's context as one line: "logger=podium.gateway · exception=ValueError: x". */
export function contextLine(context) {
  return Object.entries(context ?? {}).map(([key, value]) => `${key}=${value}`).join(" · ");
}

export class SystemLogPanel {
  /** @param actions {close()} */
  constructor(root, actions) {
    this.root = root;
    this.ids = new Set(); // the entries shown
    this.next = null; // where the next older page starts (null: the oldest is shown)
    this.position = 0; // the live stream's: the last id it gave or the page's head
    this.generation = 0; // each opening and filter reads anew: answers to an older read are dropped
    this.source = null;
    this.loading = false;

    this.count = h("span.system-log-count");
    this.level = h("select#system-log-level", { title: "show one level's entries", onchange: () => this.reload() },
      h("option", { value: "" }, "all levels"), LEVELS.map((level) => h("option", { value: level }, level)));
    this.list = h("div.system-log-list#system-log");
    this.empty = h("p.empty", { hidden: true }, "No entries.");
    this.status = h("p.system-log-status", { hidden: true });
    this.more = h("button.small#system-log-older", { type: "button", hidden: true, onclick: () => this.older() },
      "older entries");
    root.append(
      h("div.drawer-head", null,
        h("h2", null, "System log", this.count),
        this.level,
        h("button.small#system-log-close", { type: "button", title: "close the system log (Escape)", onclick: () => actions.close() }, "✕")),
      h("div.system-log-body", null, this.list, this.empty, this.status, this.more));
  }

  get open() {
    return !this.root.hidden;
  }

  setOpen(open) {
    this.root.hidden = !open;
    if (open) this.reload();
    else this.stop();
  }

  stop() {
    this.generation += 1;
    this.source?.close();
    this.source = null;
    clearTimeout(this.retry);
  }

  /** The newest page of the chosen level, then the live stream from its head. */
  async reload() {
    this.stop();
    const generation = this.generation;
    this.ids.clear();
    this.list.replaceChildren();
    this.next = null;
    const page = await this.read(NEWEST, generation);
    if (!page) return;
    this.position = page.head;
    this.follow(generation);
  }

  /** The next page of older entries (again, after a failed read). */
  async older() {
    if (this.loading) return;
    if (this.source === null) await this.reload(); // the first page failed: start over
    else if (this.next !== null) await this.read(this.next, this.generation);
  }

  async read(before, generation) {
    this.loading = true;
    this.show("loading…");
    let page = null;
    let problem = null;
    try {
      page = await api.systemLogs({ before, level: this.level.value || null, limit: PAGE });
    } catch (error) {
      problem = error;
    }
    if (generation !== this.generation) return null; // a newer read is under way
    this.loading = false;
    if (problem) {
      this.show(problem.message, true);
      return null;
    }
    for (const entry of page.items) this.add(entry, false);
    this.next = page.next_before ?? null;
    this.show("");
    return page;
  }

  follow(generation) {
    const source = new EventSource(api.streamUrl({ category: SYSTEM_CATEGORY, after: this.position }));
    source.addEventListener("event", (message) => this.arrived(JSON.parse(message.data)));
    source.onerror = () => {
      // An HTTP error ends an EventSource for good: start a new one from where this one was.
      if (source.readyState !== EventSource.CLOSED || generation !== this.generation) return;
      this.retry = setTimeout(() => {
        if (generation === this.generation) this.follow(generation);
      }, RETRY_MS);
    };
    this.source = source;
  }

  arrived(event) {
    this.position = Math.max(this.position, event.id);
    const entry = entryOf(event);
    if (entry && (!this.level.value || entry.level === this.level.value)) this.add(entry, true);
    this.show("");
  }

  /** Show an entry, at the top (a new one) or the bottom (an older one), once. */
  add(entry, newest) {
    if (this.ids.has(entry.notification_id)) return;
    this.ids.add(entry.notification_id);
    const row = entryRow(entry);
    if (newest) this.list.prepend(row);
    else this.list.append(row);
  }

  /** What the panel says below its entries: a status, or (`failed`) a problem to try again after. */
  show(text, failed = false) {
    setText(this.count, ` · ${this.ids.size.toLocaleString()}${this.next === null ? "" : "+"}`);
    setText(this.status, text);
    this.status.hidden = !text;
    this.status.classList.toggle("error", failed);
    this.empty.hidden = this.ids.size > 0 || this.loading || failed;
    this.more.hidden = this.loading || (!failed && this.next === null);
    setText(this.more, failed ? "try again" : "older entries");
  }
}

function entryRow(entry) {
  const context = contextLine(entry.context);
  return h("div.log-entry", { dataset: { level: entry.level, id: entry.notification_id } },
    h("div.log-entry-head", null,
      h("span.log-time", { title: entry.at }, dateTime(entry.at)),
      h("span.log-level", null, entry.level),
      h("span.log-id", null, `#${entry.notification_id}`),
      entry.session_id ? h("a.log-session", {
        href: `/sessions/${encodeURIComponent(entry.session_id)}`, title: "open the session it names",
      }, `session ${shortId(entry.session_id)}`) : null),
    h("div.log-message", null, entry.message),
    context ? h("div.log-context", null, context) : null);
}
