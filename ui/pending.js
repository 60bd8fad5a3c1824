// The requests waiting for a decision, live: what GET /api/approvals says is
// pending, asked again whenever the log says something changed (one question
// at a time; one more if more changed meanwhile), less what the log has told
// decided since the answer came.
//
// A request the log holds and the gateway has not listed yet (its read model
// not caught up) is asked about again shortly, a few times.

import { api } from "./api.js";
import { ApprovalStatus } from "./meta.js";
import { pendingApprovals } from "./reducer.js";

// Events after which the pending requests may have changed.
const TRIGGERS = new Set([
  "ApprovalRequested", "ApprovalGranted", "ApprovalDenied", "ApprovalExpired", "AgentStatusChanged",
]);
const UNLISTED_RETRY_MS = 1000;
const UNLISTED_RETRIES = 10;

export class PendingRequests {
  /**
   * @param sessionId the session whose requests these are
   * @param latest () => the state at the log's head
   * @param changed (requests) => void  after every answer
   * @param failed (error) => void  an answer that was a problem
   */
  constructor(sessionId, latest, changed, failed) {
    Object.assign(this, { sessionId, latest, changed, failed });
    this.requests = [];
    this.listed = new Set(); // ids the gateway has ever listed as pending
    this.running = null; // the questions being asked, as one promise
    this.askAgain = false;
    this.retries = 0;
  }

  /** The events appended from `start` on: ask again if they may change the queue. */
  appended(events, start) {
    for (let i = start; i < events.length; i++) {
      if (TRIGGERS.has(events[i].type)) return this.refresh();
    }
    return Promise.resolve();
  }

  /** Pending as of `state` (the head's): the log may already tell a decision the answer did not. */
  list(state) {
    return this.requests.filter(
      (a) => (state.approvals[a.id]?.status ?? ApprovalStatus.PENDING) === ApprovalStatus.PENDING);
  }

  /** A decision the gateway answered 200: the request waits no more. */
  decided(id) {
    this.requests = this.requests.filter((a) => a.id !== id);
  }

  /** Ask the gateway; settles once every question asked meanwhile is answered too. */
  refresh() {
    if (!this.sessionId) return Promise.resolve();
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
        this.requests = await api.approvals(this.sessionId, ApprovalStatus.PENDING);
        for (const approval of this.requests) this.listed.add(approval.id);
        this.retryUnlisted();
        this.changed(this.requests);
      } catch (error) {
        this.failed(error);
      }
    } while (this.askAgain);
  }

  retryUnlisted() {
    const unlisted = pendingApprovals(this.latest()).some((a) => !this.listed.has(a.id));
    if (!unlisted) this.retries = 0;
    else if (this.retries++ < UNLISTED_RETRIES) setTimeout(() => this.refresh(), UNLISTED_RETRY_MS);
  }
}
