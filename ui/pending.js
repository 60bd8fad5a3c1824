// The requests waiting for a decision, live, from every session: one queue
// for the whole team. What GET /api/approvals says is pending, asked again
// whenever a request or a decision is appended anywhere (a stream of the
// approval events alone, across sessions); one question at a time, and one
// more if more happened meanwhile. A decision the stream told, or the
// gateway answered 200, counts at once, before the next answer.
//
// A request the stream told and the gateway has not listed yet (its read
// model not caught up) is asked about again shortly, a few times.

import { api } from "./api.js";
import { ApprovalStatus, APPROVAL_CATEGORY } from "./meta.js";

const UNLISTED_RETRY_MS = 1000;
const UNLISTED_RETRIES = 10;
const WATCH_RETRY_MS = 2000;

export class PendingRequests {
  /**
   * @param changed (requests) => void  after every answer
   * @param failed (error) => void  an answer that was a problem
   */
  constructor(changed, failed) {
    Object.assign(this, { changed, failed });
    this.requests = [];
    this.listed = new Set(); // ids the gateway has listed as pending
    this.asked = new Set(); // ids of requests the stream told, not decided
    this.decidedIds = new Set(); // ids the stream told, or a 200 said, decided
    this.running = null; // the questions being asked, as one promise
    this.askAgain = false;
    this.retries = 0;
  }

  /** Follow every session's requests and decisions as they are appended. */
  watch() {
    const source = new EventSource(api.streamUrl({ category: APPROVAL_CATEGORY }));
    source.addEventListener("event", (message) => this.seen(JSON.parse(message.data)));
    source.onopen = () => this.refresh(); // (re)connected: what happened meanwhile
    source.onerror = () => {
      // An HTTP error ends an EventSource for good (the page's log says why): start anew.
      if (source.readyState === EventSource.CLOSED) setTimeout(() => this.watch(), WATCH_RETRY_MS);
    };
  }

  /** An approval event was appended: note what it says, and ask again. */
  seen(event) {
    if (event.type === "ApprovalRequested") this.asked.add(event.stream_id);
    else {
      this.asked.delete(event.stream_id);
      this.decidedIds.add(event.stream_id);
    }
    return this.refresh();
  }

  /** The requests waiting, oldest first as the gateway lists them. */
  list() {
    return this.requests.filter((a) => !this.decidedIds.has(a.id));
  }

  /** A decision the gateway answered 200: the request waits no more. */
  decided(id) {
    this.decidedIds.add(id);
  }

  /** Ask the gateway; settles once every question asked meanwhile is answered too. */
  refresh() {
    if (this.running) {
      this.askAgain = true;
      return this.running;
    }
    this.running = this.ask().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async ask() {
    do {
      this.askAgain = false;
      try {
        this.requests = await api.approvals(ApprovalStatus.PENDING);
        for (const approval of this.requests) this.listed.add(approval.id);
        this.retryUnlisted();
        this.changed(this.list());
      } catch (error) {
        this.failed(error);
      }
    } while (this.askAgain);
  }

  retryUnlisted() {
    const unlisted = [...this.asked].some((id) => !this.listed.has(id));
    if (!unlisted) this.retries = 0;
    else if (this.retries++ < UNLISTED_RETRIES) setTimeout(() => this.refresh(), UNLISTED_RETRY_MS);
  }
}
