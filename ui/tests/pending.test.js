// node --test ui/tests: the live queue's questions to the gateway, with a
// stand-in for fetch (node's would need a podium), no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import "./served-meta.js";
import { PendingRequests } from "../pending.js";
import { initialState } from "../reducer.js";

const asked = [];
let answer = [];
globalThis.fetch = async (path) => {
  asked.push(path);
  await Promise.resolve(); // answered later, as over a network
  return new Response(JSON.stringify({ approvals: answer }), { status: 200 });
};
const request = (id) => ({ id, status: "pending", notification_id: 1 });

test("asked again after approval events, one question at a time; the log's decisions count at once", async () => {
  const state = initialState();
  const answers = [];
  const pending = new PendingRequests("s-1", () => state, (found) => answers.push(found.map((a) => a.id)), assert.fail);
  answer = [request("r1"), request("r2")];
  await pending.appended([{ type: "AgentTextEmitted" }], 0);
  assert.equal(asked.length, 0); // nothing a queue shows
  const answered = pending.appended([{ type: "ApprovalRequested" }, { type: "AgentStatusChanged" }], 0);
  pending.appended([{ type: "ApprovalGranted" }], 0); // while the first question is out: one more
  pending.appended([{ type: "ApprovalDenied" }], 0);
  await answered;
  assert.deepEqual(asked, ["/api/approvals?status=pending&session=s-1", "/api/approvals?status=pending&session=s-1"]);
  assert.deepEqual(answers, [["r1", "r2"], ["r1", "r2"]]);
  // The log told r1 decided after the gateway's answer: it waits no more.
  const decided = { ...state, approvals: { r1: { ...request("r1"), status: "granted" } } };
  assert.deepEqual(pending.list(decided).map((a) => a.id), ["r2"]);
  pending.decided("r2"); // the gateway answered a decision with 200
  assert.deepEqual(pending.list(decided).map((a) => a.id), []);
});
