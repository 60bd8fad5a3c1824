// The event stream: every event of the session up to the shown moment,
// newest at the bottom, filtered by agent, category and text, virtualised.
// An event the summarizer summarized by the shown moment reads as its AI
// summary (the mechanical one is its tooltip); the summarizer's own events
// show only when their category is chosen.
//
// The rows are the log itself (no copy): `matched` holds the indexes of the
// events that pass the filters, in log order, so the rows shown at a moment
// are the matched indexes below the moment's event count.

import { h, clock } from "./format.js";
import { eventDetails } from "./details.js";
import { upperBound } from "./log.js";
import { VirtualList } from "./virtual-list.js";
import { CATEGORIES, SUMMARIES_STREAM } from "./meta.js";
import { aiSummary, initialState } from "./reducer.js";

const ROW_HEIGHT = 26;
const ROW = h("div.row", null, h("div.row-line", null,
  h("span.row-time"), h("span.row-id"), h("span.row-who"), h("span.row-type"), h("span.row-summary")));
const SEARCHED_INPUT = 2000; // characters of a tool input searched: enough for paths and commands
const ORCHESTRATOR = "\u0000orchestrator"; // the agent filter's value for the session's own events

export class StreamPanel {
  constructor(root, log) {
    this.log = log;
    this.filters = { agent: "", categories: new Set(), text: "" };
    this.matched = []; // indexes into log.events of the events that pass the filters
    this.completions = new Map(); // tool_use_id -> index of its ToolUseCompleted
    this.agentNames = new Set();
    this.cursor = 0; // events shown: the first `cursor` of the log
    this.state = initialState(); // the reducer's state at the cursor: the summaries made by then
    this.shown = 0; // rows shown: matched events below the cursor
    this.searchCache = new WeakMap();

    this.agentSelect = h("select#agent-filter", { title: "show one agent's events", onchange: () => this.setAgent() },
      h("option", { value: "" }, "all agents"),
      h("option", { value: ORCHESTRATOR }, "orchestrator"));
    this.categoryButtons = CATEGORIES.map((category) =>
      h(`button.chip.cat-${category}`, {
        type: "button", dataset: { category }, title: `show ${category} events (several may be chosen)`,
        onclick: () => this.toggleCategory(category),
      }, category));
    this.search = h("input#search", {
      type: "search", placeholder: "search events   ( / )", autocomplete: "off", spellcheck: false,
      oninput: () => this.setText(),
    });
    this.countLabel = h("span.stream-count");
    this.newButton = h("button.new-events", { type: "button", hidden: true, onclick: () => this.list.scrollToBottom() });
    const viewport = h("div.stream-viewport#stream", { tabIndex: 0, onclick: (e) => this.clicked(e) });
    root.append(
      h("h2", null, "Events", this.countLabel),
      h("div.stream-filters", null, this.agentSelect, h("div.chips", null, this.categoryButtons), this.search),
      h("div.stream-body", null, viewport, this.newButton),
    );

    this.list = new VirtualList(viewport, {
      key: (position) => this.log.events[this.matched[position]].id,
      signature: (position) => this.signature(this.matched[position]),
      render: (position, expanded) => this.renderRow(this.matched[position], expanded),
      positionOf: (id) => this.positionOf(id),
    }, ROW_HEIGHT);
    this.list.onPinnedChange = () => this.updateNewButton();
    this.unseenFrom = 0; // rows shown when the user scrolled away from the bottom
  }

  // --- the log grows; the moment moves --------------------------------------

  /** Events from `start` on were appended to the log. */
  appended(start) {
    const { events } = this.log;
    for (let i = start; i < events.length; i++) {
      const event = events[i];
      if (event.type === "ToolUseCompleted") this.completions.set(event.payload.tool_use_id, i);
      if (event.type === "AgentCreated" && !this.agentNames.has(event.payload.name)) {
        this.agentNames.add(event.payload.name);
        this.agentSelect.append(h("option", { value: event.payload.name }, event.payload.name));
      }
      if (this.passes(event)) this.matched.push(i);
    }
  }

  /** Show the log as of its first `count` events, `state` the reducer's state there. */
  setCursor(count, state, relayout = false) {
    const moved = count !== this.cursor;
    this.cursor = count;
    this.state = state;
    const shown = upperBound(this.matched.length, (i) => this.matched[i] < count);
    if (shown === this.shown && !relayout && !moved) return;
    if (this.list.pinned || shown < this.unseenFrom) this.unseenFrom = shown;
    this.shown = shown;
    this.list.setCount(shown, relayout);
    this.countLabel.textContent = `${shown.toLocaleString()} of ${count.toLocaleString()}`;
    this.updateNewButton();
  }

  updateNewButton() {
    if (this.list.pinned) this.unseenFrom = this.shown;
    const unseen = this.shown - this.unseenFrom;
    this.newButton.hidden = this.list.pinned;
    this.newButton.textContent = unseen > 0 ? `↓ ${unseen.toLocaleString()} new` : "↓ latest";
  }

  // --- filters --------------------------------------------------------------

  passes(event) {
    const { agent, categories, text } = this.filters;
    if (agent === ORCHESTRATOR ? event.stream_type !== "session" : agent && event.agent !== agent) return false;
    // The summarizer's events would crowd the stream: shown when their category is chosen.
    if (categories.size ? !categories.has(event.category) : event.stream_type === SUMMARIES_STREAM) return false;
    return !text || this.searchText(event).includes(text);
  }

  searchText(event) {
    let text = this.searchCache.get(event);
    if (text === undefined) {
      // The summary cuts long values short; search what a person would look for in full.
      const p = event.payload ?? {};
      const input = p.input ? JSON.stringify(p.input).slice(0, SEARCHED_INPUT) : "";
      const parts = [event.type, event.agent, event.summary, p.text, p.path, p.command, p.error, input];
      text = parts.filter(Boolean).join(" ").toLowerCase();
      this.searchCache.set(event, text);
    }
    return text;
  }

  refilter() {
    const { events } = this.log;
    const matched = [];
    for (let i = 0; i < events.length; i++) if (this.passes(events[i])) matched.push(i);
    this.matched = matched;
    this.list.setPinned(true); // a new filter starts at the newest of what it shows
    this.setCursor(this.cursor, this.state, true);
    this.stick();
  }

  /** Back to the bottom if following it; after every other DOM write of a frame. */
  stick() {
    this.list.stick();
  }

  /** Show only this agent's events; again, everyone's. */
  toggleAgent(name) {
    this.agentSelect.value = this.filters.agent === name ? "" : name;
    this.setAgent();
  }

  setAgent() {
    this.filters.agent = this.agentSelect.value;
    this.refilter();
  }

  toggleCategory(category) {
    const { categories } = this.filters;
    if (categories.has(category)) categories.delete(category);
    else categories.add(category);
    for (const button of this.categoryButtons) {
      button.classList.toggle("on", categories.has(button.dataset.category));
    }
    this.refilter();
  }

  setText() {
    const text = this.search.value.trim().toLowerCase();
    if (text === this.filters.text) return;
    this.filters.text = text;
    this.refilter();
  }

  focusSearch() {
    this.search.focus();
    this.search.select();
  }

  clearSearch() {
    this.search.value = "";
    this.setText();
    this.search.blur();
  }

  // --- rows -----------------------------------------------------------------

  /** A click on a row opens or closes its details (a click inside them does neither). */
  clicked(e) {
    const row = e.target.closest(".row");
    if (row && !e.target.closest(".details")) this.list.toggle(Number(row.dataset.id));
  }

  positionOf(id) {
    const index = upperBound(this.log.events.length, (i) => this.log.events[i].id < id);
    const position = upperBound(this.matched.length, (i) => this.matched[i] < index);
    return this.matched[position] === index ? position : -1;
  }

  /** The completion of a tool use, if it happened by the shown moment. */
  completionOf(event) {
    const index = this.completions.get(event.payload?.tool_use_id);
    return index !== undefined && index < this.cursor ? this.log.events[index] : null;
  }

  signature(index) {
    const event = this.log.events[index];
    const summarized = aiSummary(this.state, event.id) === null ? "" : "summarized";
    if (event.type !== "ToolUseRequested") return summarized;
    return (this.completionOf(event) ? "done " : "running ") + summarized; // its output shows once it is done
  }

  renderRow(index, expanded) {
    // A scrub draws every row on screen anew: cloning a template is the cheap way.
    const event = this.log.events[index];
    const row = ROW.cloneNode(true);
    row.className = `row cat-${event.category}${expanded ? " expanded" : ""}`;
    row.dataset.id = event.id;
    row.dataset.type = event.type;
    const [time, id, who, type, summary] = row.firstChild.children;
    time.textContent = clock(event.at);
    id.textContent = `#${event.id}`;
    who.textContent = who.title = whoOf(event);
    type.textContent = event.type;
    const ai = aiSummary(this.state, event.id);
    summary.textContent = ai ?? event.summary;
    summary.title = event.summary;
    if (ai !== null) summary.classList.add("ai");
    if (expanded) row.append(eventDetails(event, this.completionOf(event), ai));
    return row;
  }
}

function whoOf(event) {
  if (event.agent) return event.agent;
  if (event.type === "UserMessageSent") return "you";
  if (event.stream_type === SUMMARIES_STREAM) return "summarizer";
  return event.stream_type === "session" ? "orchestrator" : "system";
}
