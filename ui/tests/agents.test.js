// node --test ui/tests: what an agent card says about its status, no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import "./served-meta.js";
import { statusLabel } from "../agents.js";

test("a card says how many commands wait, whatever the status", () => {
  assert.equal(statusLabel({ status: "idle", queued: 0 }), "idle");
  assert.equal(statusLabel({ status: "queued", queued: 2 }), "queued · 2 waiting");
  assert.equal(statusLabel({ status: "working", queued: 1 }), "working · 1 waiting");
  assert.equal(statusLabel({ status: "hibernating", queued: 0 }), "hibernating ☾");
});
