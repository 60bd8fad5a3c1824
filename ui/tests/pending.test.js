// node --test ui/tests: the live queue's questions to the gateway, with a
// stand-in for fetch (node's would need a podium), no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import "./served-meta.js";
import { PendingRequests } from "../pending.js";

const asked = [];
let answer = [];
globalThis.fetch = async (path) => {
  asked.push(path);
  await Promise.resolve(); // answered later, as over a network
  return new Response(JSON.stringify({ approvals: answer }), { status: 200 });
};
const request = (id) => ({ id, status: "pending", notification_id: 1 });
const event = (type, id) => ({ type, stream_id: id });

test("asked again as requests and decisions are appended, one question at a time", async () => {
  const answers = [];
  const pending = new PendingRequests((found) => answers.push(found.map((a) => a.id)), assert.fail);
  answer = [request("r1"), request("r2")];
  const answered = pending.seen(event("ApprovalRequested", "r1"));
  pending.seen(event("ApprovalRequested", "r2")); // while the first question is out: one more
  pending.seen(event("ApprovalRequested", "r2"));
  await answered;
  assert.deepEqual(asked, ["/api/approvals?status=pending", "/api/approvals?status=pending"]);
  assert.deepEqual(answers, [["r1", "r2"], ["r1", "r2"]]);

  // A decision counts as soon as it is told, before the gateway's next answer.
  pending.seen(event("ApprovalGranted", "r1"));
  assert.deepEqual(pending.list().map((a) => a.id), ["r2"]);
  pending.decided("r2"); // the gateway answered a decision with 200
  assert.deepEqual(pending.list(), []);
});
