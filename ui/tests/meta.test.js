// node --test ui/tests: the vocabulary the UI learns from GET /api/meta, no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import "./served-meta.js";
import { AgentStatus, SessionStatus, CATEGORIES, LEVELS } from "../meta.js";

test("the UI names statuses as the domain does, and an unknown name throws", () => {
  assert.equal(AgentStatus.WORKING, "working");
  assert.equal(SessionStatus.ENDED, "ended");
  assert.throws(() => AgentStatus.BUSY_ISH, /no agent status BUSY_ISH/);
});

test("categories and levels come in the domain's order", () => {
  assert.equal(CATEGORIES[0], "chat");
  assert.ok(CATEGORIES.includes("lifecycle"));
  assert.deepEqual(LEVELS, ["debug", "info", "warning", "error"]);
});
