// Desktop notifications of new requests for permission, while the tab is
// hidden, and only if the person allowed them: the browser asks once, on a
// click (browsers refuse to ask otherwise).

import { inputLine } from "./tool-input.js";

export class Notifier {
  /** @param open (approvalId) => void  shows the request when its notification is clicked */
  constructor(open) {
    this.open = open;
    this.known = null; // ids of the pending requests already seen (null: none looked at yet)
  }

  get supported() {
    return typeof Notification !== "undefined";
  }

  /** The browser may still ask the person (it has neither been allowed nor refused). */
  get askable() {
    return this.supported && Notification.permission === "default";
  }

  async ask() {
    if (this.askable) await Notification.requestPermission();
  }

  /** The pending requests now: tell of the ones not seen before (not of those there at first). */
  pending(approvals) {
    const first = this.known === null;
    const fresh = first ? [] : approvals.filter((a) => !this.known.has(a.id));
    this.known = new Set(approvals.map((a) => a.id));
    if (!fresh.length || !document.hidden || !this.supported || Notification.permission !== "granted") return;
    for (const approval of fresh) {
      const note = new Notification(`podium: ${approval.agent} asks to use ${approval.tool}`, {
        body: inputLine(approval.tool, approval.input),
        tag: approval.id, // one notification per request, however often it is told
      });
      note.onclick = () => {
        window.focus();
        this.open(approval.id);
        note.close();
      };
    }
  }
}
