// node --test ui/tests: desktop notifications of new requests, with a stand-in
// for the browser's Notification API (node has none), no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Notifier } from "../notify.js";

const shown = [];
class FakeNotification {
  static permission = "granted";
  constructor(title, options) {
    shown.push({ title, ...options });
  }
}
globalThis.Notification = FakeNotification;
globalThis.document = { hidden: true };

const ask = (id, command) => ({ id, agent: "sam", tool: "Bash", input: { command } });

test("only requests new since the last look are told, only while the tab is hidden", () => {
  const opened = [];
  const notifier = new Notifier((id) => opened.push(id));
  notifier.pending([ask("r1", "ls")]); // there when the page opened: not news
  assert.deepEqual(shown, []);
  notifier.pending([ask("r1", "ls"), ask("r2", "npm test")]);
  assert.deepEqual(shown, [{ title: "podium: sam asks to use Bash", body: "Bash: npm test", tag: "r2" }]);
  document.hidden = false; // the person is looking: the queue shows it
  notifier.pending([ask("r2", "npm test"), ask("r3", "make")]);
  assert.equal(shown.length, 1);
  document.hidden = true;
  FakeNotification.permission = "denied"; // refused: never told
  notifier.pending([ask("r4", "rm")]);
  assert.equal(shown.length, 1);
  assert.equal(notifier.askable, false);
  FakeNotification.permission = "default";
  assert.equal(notifier.askable, true);
});
