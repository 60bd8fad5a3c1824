// node --test ui/tests: budgets and spend as the meters show them, no browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { budgetLevel, parseBudget, budgetText, dollars, warningText } from "../budget.js";

test("a bar's level follows the spend and the warnings given", () => {
  assert.deepEqual(budgetLevel(1, null), { percent: null, level: "none" });
  assert.deepEqual(budgetLevel(1, 5), { percent: 20, level: "ok" });
  assert.deepEqual(budgetLevel(2.5, 5), { percent: 50, level: "warned" });
  assert.deepEqual(budgetLevel(4.6, 5), { percent: 92, level: "high" });
  assert.deepEqual(budgetLevel(6, 5), { percent: 120, level: "over" });
  assert.deepEqual(budgetLevel(0, 0), { percent: 100, level: "over" });
  // The log's warning counts even before the spend the page knows has caught up.
  assert.deepEqual(budgetLevel(1, 5, 75), { percent: 20, level: "warned" });
  assert.deepEqual(budgetLevel(1, 5, 100), { percent: 20, level: "over" });
});

test("a budget typed in: dollars, empty for none, anything else refused", () => {
  assert.equal(parseBudget("5"), 5);
  assert.equal(parseBudget(" $2.50 "), 2.5);
  assert.equal(parseBudget(".5"), 0.5);
  assert.equal(parseBudget(""), null);
  assert.equal(parseBudget("  "), null);
  for (const bad of ["-1", "five", "1e3", "1,5", "$", "NaN"]) assert.equal(parseBudget(bad), undefined, bad);
});

test("a meter says the spend, the budget and how far in", () => {
  assert.equal(budgetText(0.0123, 5), "$0.0123 of $5.00 · 0%");
  assert.equal(dollars(2.5), "$2.50");
  assert.equal(budgetText(0.5, null), "$0.5000 · no budget");
});

test("a warning says how much is spent; at 100 the budget refuses commands", () => {
  assert.deepEqual([0, 50, 90, 100].map(warningText), ["", "50% spent", "90% spent", "spent: commands are refused"]);
});
