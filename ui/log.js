// One session's log in the browser: paged in from the start, then followed live.
//
// The history comes a page at a time (GET /events?after=&limit=), so the
// first screen shows after one page however long the log is. Then an
// EventSource continues from the last id loaded (?after=, and Last-Event-ID
// on its own reconnects): no gap, no duplicate, and appending ignores any id
// already held anyway.

import { api } from "./api.js";

export const PAGE_SIZE = 1000;
const RETRY_MS = 2000;

export class EventLog {
  constructor(sessionId) {
    this.sessionId = sessionId;
    this.events = []; // in log order; only ever appended to
    this.times = []; // each event's time in ms, for playback and jumping to a time
    this.head = 0; // the log's head as the gateway last reported it
    this.complete = false; // the history is in; what follows arrives live
    this.connection = "loading"; // loading | live | reconnecting | offline
    this.error = null;
    this.listeners = { append: [], delta: [], status: [] };
  }

  on(kind, listener) {
    this.listeners[kind].push(listener);
  }

  emit(kind, value) {
    for (const listener of this.listeners[kind]) listener(value);
  }

  get lastId() {
    return this.events.length ? this.events[this.events.length - 1].id : 0;
  }

  /** Page in the whole history, then follow the live stream. */
  async start() {
    let after = 0;
    for (;;) {
      let page;
      try {
        page = await api.events(this.sessionId, after, PAGE_SIZE);
      } catch (error) {
        this.setStatus("offline", error);
        if (error.status >= 400 && error.status < 500) return; // no such session: retrying won't help
        await sleep(RETRY_MS);
        continue;
      }
      this.head = Math.max(this.head, page.head ?? 0);
      this.append(page.events);
      if (page.next_after == null) break;
      after = page.next_after;
    }
    this.complete = true;
    this.follow();
  }

  follow() {
    const source = new EventSource(api.streamUrl({ session: this.sessionId, after: this.lastId }));
    source.addEventListener("event", (message) => this.append([JSON.parse(message.data)]));
    source.addEventListener("delta", (message) => this.emit("delta", JSON.parse(message.data)));
    source.onopen = () => this.setStatus("live");
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // An HTTP error ends an EventSource for good: start a new one from where we are.
        this.setStatus("offline");
        setTimeout(() => this.follow(), RETRY_MS);
      } else {
        this.setStatus("reconnecting"); // the EventSource retries with Last-Event-ID itself
      }
    };
    this.source = source;
  }

  append(events) {
    const start = this.events.length;
    for (const event of events) {
      if (event.id <= this.lastId) continue; // already held
      if (event.session_id && event.session_id !== this.sessionId) continue;
      this.events.push(event);
      this.times.push(Date.parse(event.at));
      this.head = Math.max(this.head, event.id);
    }
    if (this.events.length > start) this.emit("append", start);
  }

  setStatus(connection, error = null) {
    this.connection = connection;
    this.error = error;
    this.emit("status", connection);
  }

  /** How many events have ids up to `id` (the count to show the log as of `id`). */
  countUpToId(id) {
    return upperBound(this.events.length, (i) => this.events[i].id <= id);
  }

  /** How many events happened up to `ms` (a time in ms since the epoch). */
  countUpToTime(ms) {
    return upperBound(this.times.length, (i) => this.times[i] <= ms);
  }
}

/** The first index in [0, length) where `isBefore` turns false (it must be monotonic). */
export function upperBound(length, isBefore) {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (isBefore(middle)) low = middle + 1;
    else high = middle;
  }
  return low;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
